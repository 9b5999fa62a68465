"""Who may do what, decided here rather than by each page, so a page that
forgets to hide a button cannot open a door. Each rule takes the signed-in
account (governance.auth.User) and what the action touches."""

from __future__ import annotations

from governance.auth import User


def may_save_scenarios(user: User) -> bool:
    """Administrators and district leaders save what-if scenarios."""
    return user.can_edit_scenarios


def may_change_scenario(user: User, saved_by: str | None) -> bool:
    """Overwrite or delete a saved scenario: an administrator any, a leader
    only their own (saved_by None: no scenario of that name yet)."""
    if not may_save_scenarios(user):
        return False
    return user.is_admin or saved_by is None or saved_by == user.record_name


def may_import_boundaries(user: User) -> bool:
    """Boundaries replace every community's shape: administrators only."""
    return user.is_admin


def may_clear_sample(user: User) -> bool:
    """The sample district leaves every table at once: administrators only."""
    return user.is_admin


def may_save_meetings(user: User) -> bool:
    """A meeting on record is the bureau's: administrators and district leaders."""
    return user.can_edit_scenarios


def may_delete_meeting(user: User) -> bool:
    """A meeting on record (and the data version it keeps): administrators only."""
    return user.is_admin


class NotPermitted(PermissionError):
    """An action the account may not take; str() is the Chinese message."""
