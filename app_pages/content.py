"""Content: what the platform published and drew — posts per bucket by type and the post list
(full text as plain text), galleries of illustrations and Gerta poses with counts per agent and
bucket. Illustrations and poses are read by introspection: their columns are not documented, so
whatever columns exist are shown and the one holding image addresses is found from its values.
Only http(s) and data:image URLs are ever loaded; any other value is a placeholder with its reason."""

import streamlit as st

from dashboard import content_charts, content_sections, ui
from dashboard.filter_bar import current

filters = current()
params = filters.view_params()
csv_parts = filters.export_parts()

st.title("Content")
st.caption(filters.describe())
posts_tab, illustrations_tab, poses_tab = st.tabs(["Posts", "Illustrations", "Gerta poses"])

with posts_tab:
    st.subheader("Posts by type")
    st.caption("Posts belong to no agent: the agent filter does not apply to them.")
    ui.chart_block(
        "posts_per_bucket",
        params,
        lambda frame: content_charts.posts_per_bucket(frame, bucket=filters.bucket, tz=filters.tz),
        csv_parts=csv_parts,
    )
    st.subheader("Posts")
    content_sections.post_list(params, csv_parts)


def counts(name: str, noun: str) -> None:
    """Items per bucket (and agent, where the rows name one) as a chart, and per agent as a table."""
    result = ui.chart_block(
        name,
        params,
        lambda frame: content_charts.items_per_bucket(frame, bucket=filters.bucket, tz=filters.tz, noun=noun),
        csv_parts=csv_parts,
    )
    if result is not None and "agent_name" in result.frame.columns and not result.frame.empty:
        ui.table(content_sections.per_agent(result.frame), content_sections.PER_AGENT_COLUMNS)


with illustrations_tab:
    st.subheader("Illustrations")
    st.caption(
        "Newest first, in the range and of the chosen agents; illustrations with no time at all show "
        "in every range."
    )
    content_sections.gallery_section(
        "illustration_gallery",
        params,
        csv_parts,
        noun="Illustrations",
        one="Illustration",
        param="illustrations_page",
    )
    st.subheader("Illustrations per agent")
    counts("illustrations_per_bucket", "Illustrations")

with poses_tab:
    st.subheader("Gerta poses")
    st.caption("The whole catalog of poses, whatever the range.")
    content_sections.gallery_section(
        "gerta_pose_gallery", params, csv_parts, noun="Poses", one="Pose", param="poses_page"
    )
    st.subheader("Poses added per bucket")
    st.caption("Poses belong to no agent: the agent filter does not apply to them.")
    counts("gerta_poses_per_bucket", "Poses")
