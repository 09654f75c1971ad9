//! The hardening findings of the security review, one module each: what a
//! client, a cross-site page or an edited file must not be able to do.

mod admin_requests;
mod auth_logs;
mod check_config;
mod echo;
mod headers;
mod logs;
mod proxy;
mod reload_environment;
mod sqlite_mode;
mod webhook_auth;
