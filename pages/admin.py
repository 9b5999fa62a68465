"""账号与审计: local accounts (administrators only) and the audit log."""

from __future__ import annotations

import streamlit as st

from governance import auth
from governance.text import escape_markdown, t
from pages import _drawing, _reads, _session, _shell

ctx = _shell.page_context("admin")
st.title(t("admin.title"))
store = _session.accounts()
streets = _reads.street_names(ctx)


def _label(name: str) -> str:
    return t(f"admin.column.{name}")


def _done(action: str, detail: str, message: str) -> None:
    _session.audit(ctx, action, detail)
    st.success(message)


st.subheader(t("admin.users"))
users = store.list_users()
if users.empty:
    st.info(t("admin.local_mode"))
else:
    shown = auth.users_for_display(users)
    _drawing.table(shown.rename(columns=_label))

with st.form("admin_add_user", clear_on_submit=True):
    st.markdown("**" + t("admin.add") + "**")
    left, right = st.columns(2)
    username = left.text_input(t("admin.username"), key="admin_new_username")
    display_name = right.text_input(t("admin.display_name"), key="admin_new_display_name")
    role = left.selectbox(t("admin.role"), auth.ROLES, format_func=lambda r: t(f"auth.role.{r}"),
                          key="admin_new_role")
    chosen = right.multiselect(t("admin.streets"), streets, key="admin_new_streets",
                               placeholder=t("admin.streets.placeholder"), select_all=False)
    password = left.text_input(t("admin.password"), type="password", key="admin_new_password",
                               help=t("auth.error.short_password",
                                      length=auth.PASSWORD_MIN_LENGTH))
    if st.form_submit_button(t("admin.create"), type="primary"):
        try:
            created = store.add_user(username, password, role, tuple(chosen),
                                     display_name.strip() or None)
        except auth.AccountError as problem:
            st.error(str(problem))
        else:
            _done("user_add", f"{created.username} {created.role} {'、'.join(created.streets)}",
                  t("admin.created", username=escape_markdown(created.username)))

if not users.empty:
    st.markdown("**" + t("admin.edit") + "**")
    who = st.selectbox(t("admin.edit.user"), users["username"].tolist(), key="admin_edit_user")
    account = store.get_user(who)
    if account is not None:
        left, right = st.columns(2)
        new_role = left.selectbox(
            t("admin.role"), auth.ROLES, index=auth.ROLES.index(account.role),
            format_func=lambda r: t(f"auth.role.{r}"), key=f"admin_role_{who}")
        new_streets = right.multiselect(
            t("admin.streets"), sorted(set(streets) | set(account.streets)),
            default=list(account.streets), key=f"admin_streets_{who}",
            placeholder=t("admin.streets.placeholder"), select_all=False)
        if left.button(t("admin.save_access"), key=f"admin_save_{who}"):
            try:
                store.set_access(who, new_role, tuple(new_streets))
            except auth.AccountError as problem:
                st.error(str(problem))
            else:
                _done("user_access", f"{who} {new_role} {'、'.join(new_streets)}",
                      t("admin.access_saved", username=escape_markdown(who)))
        new_password = left.text_input(t("admin.password.new"), type="password",
                                       key=f"admin_password_{who}")
        if left.button(t("admin.reset_password"), key=f"admin_reset_{who}"):
            try:
                store.set_password(who, new_password)
            except auth.AccountError as problem:
                st.error(str(problem))
            else:
                _done("user_password", who,
                      t("admin.password_reset", username=escape_markdown(who)))
        if right.button(t("admin.remove"), key=f"admin_remove_{who}"):
            try:
                store.remove_user(who)
            except auth.AccountError as problem:
                st.error(str(problem))
            else:
                _done("user_remove", who, t("admin.removed", username=escape_markdown(who)))

st.subheader(t("admin.audit"))
actions = ["", "sign_in", "sign_out", "import", "export", "scenario_save", "scenario_delete",
           "user_add", "user_access", "user_password", "user_remove"]
action = st.selectbox(t("admin.audit.action"), actions,
                      format_func=lambda a: t(f"audit.action.{a}") if a else t("filter.all"),
                      key="admin_audit_action")
log = auth.audit_log_for_display(store.audit_log(500, action or None))
if log.empty:
    st.caption(t("admin.audit.empty"))
else:
    _drawing.table(log.rename(columns=_label))
