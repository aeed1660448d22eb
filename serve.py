"""The dashboard as a server: `streamlit run serve.py` (what `make run` does).

app.py is the Streamlit app; this adds the CSV download route beside Streamlit's own, which
streams exports instead of holding them in memory (dashboard/export_route.py). `streamlit run`
finds `app` below and serves it with uvicorn, taking the usual --server.* options.
"""

from contextlib import asynccontextmanager

import streamlit as st

from dashboard import embedded, export_route


@asynccontextmanager
async def lifespan(_app):
    yield
    # The app's graceful shutdown (Ctrl+C or SIGTERM): stop the embedded database it started.
    embedded.stop_started_servers()


app = st.App("app.py", routes=export_route.routes(), lifespan=lifespan)
