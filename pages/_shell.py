"""The frame every page runs in: page config, navigation, the sidebar filters,
the page context read from their widget keys, and the sample-data banner."""

from __future__ import annotations

import threading
from datetime import date

import streamlit as st

from governance import (
    auth,
    db,
    history,
    indicators,
    scenarios,
)
from governance.contract import COMMUNITY_TYPE
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE
from governance.text import escape_markdown, t
from pages import _warm
from pages._context import (
    DataKey,
    PageContext,
    connection_for,
    data_path,
    install_error_hook,
    show_failure,
)
from pages._reads import (
    available_periods,
    district_totals,
    sample_tables,
    saved_scenario_named,
    scenario_list,
    streets_in_scope,
)
from pages._session import allowed, current_user, local_mode, sign_in_form, through_proxy, user_box


def month_label(month: date) -> str:
    return month.strftime("%Y-%m")


def sidebar_filters() -> None:
    """Render the filters every page shares (called once per run by app.py).

    The widgets live in the entry script, so their values hold across pages.
    """
    db_path = data_path()  # one snapshot for the whole run in cluster mode
    conn = connection_for(db_path)
    data = DataKey(db_path, db.data_version(conn), current_user().scope)
    years, months = available_periods(data)
    with st.sidebar:
        st.header(t("filter.header"))
        st.multiselect(
            t("filter.streets"), streets_in_scope(data),
            key="filter_streets", help=t("filter.streets.help"), placeholder=t("filter.all"),
            select_all=False,  # its label is English, and picking none already means all
        )
        st.multiselect(
            t("filter.types"), [c.code for c in COMMUNITY_TYPE.codes],
            format_func=COMMUNITY_TYPE.label_of, key="filter_types",
            help=t("filter.types.help"), placeholder=t("filter.all"), select_all=False,
        )
        if years:
            st.selectbox(t("filter.year"), years, key="filter_year", help=t("filter.year.help"))
        if months:
            st.select_slider(
                t("filter.months"), options=months, value=indicators.default_month_range(months),
                format_func=month_label, key="filter_months", help=t("filter.months.help"),
            )
        names = scenario_list(db_path, scenarios.scenario_version(conn))["name"].tolist()
        st.selectbox(
            t("filter.scenario"), ["", *names], format_func=lambda n: n or t("scenario.baseline"),
            key="filter_scenario", help=t("filter.scenario.help"),
        )


# Whether app.py drew the shell in the current script run (set by render_shell,
# consumed by page_context): app.py and the page it routes to run in one thread.
_shell = threading.local()


def navigation_pages(user: auth.User | None = None) -> dict[str, list]:
    """The pages the account may open (each page checks again for itself)."""
    sections = {
        t("nav.section.dashboards"): [
            st.Page("pages/overview.py", title=t("nav.overview"), default=True),
            st.Page("pages/facilities.py", title=t("nav.facilities")),
            st.Page("pages/funding.py", title=t("nav.funding")),
            st.Page("pages/safety.py", title=t("nav.safety")),
            st.Page("pages/scenarios.py", title=t("nav.scenarios")),
            st.Page("pages/meetings.py", title=t("nav.meetings")),
        ],
        t("nav.section.data"): [],
    }
    if user is None or user.can_import:
        sections[t("nav.section.data")].append(st.Page("pages/data.py", title=t("nav.data")))
    if user is None or user.is_admin:
        sections[t("nav.section.data")].append(st.Page("pages/admin.py", title=t("nav.admin")))
    return {name: pages for name, pages in sections.items() if pages}


def render_shell():
    """Page config, navigation and the shared sidebar filters; returns the page to run.

    app.py calls this on every run. Until st.navigation has run once in a
    server process, Streamlit treats the `pages/` folder as a pages-directory
    app, so the first request for /facilities after a restart runs that file
    without app.py; page_context() then draws the shell itself.
    """
    install_error_hook()  # also when a page runs without app.py (render_shell's doc)
    st.set_page_config(page_title=t("app.title"), layout="wide")
    if local_mode() and (not auth.is_loopback(st.get_option("server.address"))
                         or through_proxy()):
        # No accounts but reachable from the network (directly or through a
        # reverse proxy on this machine): refuse to show any data.
        st.error(t("auth.local_mode.exposed"))
        st.stop()
    user = current_user()
    if user is None:
        st.navigation([st.Page(sign_in_form, title=t("auth.sign_in"))],
                      position="hidden").run()
        st.stop()
    page = st.navigation(navigation_pages(user))
    user_box(user)
    try:
        sidebar_filters()
    except Exception as exc:  # noqa: BLE001 — the user sees a message, the log the details
        show_failure(exc)
        st.stop()
    _shell.rendered = True
    return page


def page_context(need: str | None = None) -> PageContext:
    """The context a page computes with, read from the sidebar widget keys.

    `need` names what the page requires of the signed-in account ("import",
    "scenarios", "admin"); without it the page stops with a message. Pages
    check this themselves even though the navigation hides them.
    """
    if not getattr(_shell, "rendered", False):
        render_shell()
    _shell.rendered = False
    user = current_user()
    if user is None or (need is not None and not allowed(user, need)):
        st.error(t("auth.forbidden"))
        st.stop()
    db_path = data_path()  # one snapshot for the whole run in cluster mode
    conn = connection_for(db_path)
    version = db.data_version(conn)
    # A version no run has seen yet (an import, a start): every page's default
    # view is computed in the background, so its first viewer does not wait.
    _warm.after_version(DataKey(db_path, version, user.scope))
    years, months = available_periods(DataKey(db_path, version, user.scope))
    year = st.session_state.get("filter_year")
    if year not in years:
        year = years[0] if years else None
    month_range = st.session_state.get("filter_months")
    if month_range and month_range[0] in months and month_range[1] in months:
        month_from, month_to = month_range
    else:
        month_from, month_to = indicators.default_month_range(months) or (None, None)
    view_filter = ViewFilter(
        streets=tuple(st.session_state.get("filter_streets") or ()),
        community_types=tuple(st.session_state.get("filter_types") or ()),
    )
    name = st.session_state.get("filter_scenario")
    scenario = (
        saved_scenario_named(db_path, scenarios.scenario_version(conn), name) if name else None
    ) or BASELINE
    return PageContext(
        conn, db_path, version, Period(year, month_from, month_to), view_filter, user, scenario
    )


def sample_banner(ctx: PageContext, container=None, version: int | None = None) -> None:
    """What the page is showing: sample data, and the scenario applied, if any.

    `container` and `version` let a page that changes data (数据管理) draw the
    banner at its top after the change, from the data as it now stands."""
    tables = sample_tables(ctx, version)
    target = container if container is not None else st
    if tables:
        labels = t("text.list_separator").join(history.table_label(name) for name in tables)
        target.warning(t("sample.banner", tables=labels), icon="⚠️")
    if not ctx.scenario.is_baseline:
        changes = t("text.clause_separator").join(scenarios.describe(ctx.scenario))
        target.info(t("scenario.applied", name=escape_markdown(ctx.scenario.name),
                      changes=changes), icon=":material/tune:")


def communities_or_stop(ctx: PageContext) -> dict:
    """The district totals of the filtered view; when the filters match no
    community, a message instead of the page (whose charts and maps need rows)."""
    totals = district_totals(ctx.data, ctx.view_filter)
    if not totals["communities"]:
        st.info(t("overview.empty"))
        st.stop()
    return totals


def period_caption(period: Period) -> str:
    missing = t("filter.no_data")
    return t(
        "overview.period",
        year=period.year or missing,
        month_from=month_label(period.month_from) if period.month_from else missing,
        month_to=month_label(period.month_to) if period.month_to else missing,
    )
