-- The red flags of 002's 平安社区 standard (社区无重大刑事案件, 无群体性闹事事件):
-- every community-month in range with a major criminal case or a mass incident.
-- One row per community × month with major_criminal_cases > 0 or mass_incidents > 0,
-- newest month first, then street and community_id.
-- Columns: community_id, community_name, street, community_type, month,
--   major_criminal_cases, mass_incidents (NULL where not reported).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to

with
-- include: scoped_communities

final as (
    select
        c.community_id,
        c.community_name,
        c.street,
        c.community_type,
        s.month,
        s.major_criminal_cases,
        s.mass_incidents
    from safety as s
    inner join scoped_communities as c using (community_id)
    where s.month between $month_from and $month_to
      and (s.major_criminal_cases > 0 or s.mass_incidents > 0)
)

select * from final
order by month desc, street, community_id
