"""Lillo Dashboard — entry point: page config, sign-in gate, database check, global filters,
navigation by role."""

import streamlit as st

from dashboard import runtime, signin, ui, views
from dashboard.filter_bar import filter_bar

st.set_page_config(page_title="Lillo Dashboard", page_icon=":material/forum:", layout="wide")

# Nothing below runs, and no data is read, for someone who is not signed in.

user = signin.require_user()


database = runtime.database()
if not database.ok:
    st.title("Lillo Dashboard")
    st.error(database.problem, icon=":material/database_off:")
    st.caption("Fix the setting or start the database, then reload this page; nothing else is needed.")
    signin.sign_out_control(user)
    st.stop()
# Where the database stops answering later, the page says so once, here at the top.
ui.database_notice_slot()

PAGES = [
    st.Page(
        "app_pages/overview.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    ),
    st.Page(
        "app_pages/conversations.py", title="Conversations", icon=":material/forum:", url_path="conversations"
    ),
    st.Page("app_pages/people.py", title="People", icon=":material/group:", url_path="people"),
    st.Page("app_pages/commands.py", title="Commands", icon=":material/terminal:", url_path="commands"),
    st.Page("app_pages/agents.py", title="Agents", icon=":material/smart_toy:", url_path="agents"),
    st.Page("app_pages/models.py", title="Models", icon=":material/model_training:", url_path="models"),
    st.Page("app_pages/content.py", title="Content", icon=":material/photo_library:", url_path="content"),
]
ADMIN_PAGES = [
    st.Page("app_pages/settings.py", title="Agent settings", icon=":material/tune:", url_path="settings"),
    st.Page(
        "app_pages/model_tuning.py",
        title="Model tuning",
        icon=":material/swap_horiz:",
        url_path="model-tuning",
    ),
    st.Page("app_pages/audit.py", title="Audit log", icon=":material/history:", url_path="audit"),
]
navigation = st.navigation({"Dashboard": PAGES, "Admin": ADMIN_PAGES} if user.is_admin else PAGES)
runtime.keep_rollups_fresh(database)

try:
    agent_directory = views.fetch("agent_directory").frame
except views.ViewUnavailable as notice:
    agent_directory = None
    st.sidebar.caption(f"Agent filter unavailable: {notice}")

filters = filter_bar(agent_directory, default_tz=database.settings.timezone)
ui.show_notices(filters.notices)
signin.sign_out_control(user)
st.sidebar.caption(f"{database.description} · times in {filters.tz}")
if not runtime.live_schema().rollups_installed:
    st.sidebar.caption(
        ":material/speed: Rollups are not installed, so pages read Lillo's tables directly and are slower "
        "on large data. An admin can run `python -m dashboard install`."
    )

navigation.run()
