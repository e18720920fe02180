"""Access control for the registry: users, namespaces and roles, robot accounts, Basic
(htpasswd) and Bearer token authentication, rate limiting of failed logins."""
