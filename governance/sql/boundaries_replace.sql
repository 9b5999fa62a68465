-- An accepted boundary file replaces every stored boundary.
delete from community_boundaries
