-- The dashboard's own schema. Everything the dashboard installs lives here, never in Lillo's
-- tables. Every file in sql/install is idempotent: `python -m dashboard install` re-runs them all.

create schema if not exists lillo_dash;

create table if not exists lillo_dash.installed_files (
    file_name text primary key,
    installed_at timestamptz not null default now()
);

insert into lillo_dash.installed_files (file_name)
values ('001_lillo_dash_schema.sql')
on conflict (file_name) do update set installed_at = excluded.installed_at;
