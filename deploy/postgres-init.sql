-- A database per service (ARCHITECTURE.md §2).
CREATE DATABASE nova_auth;
CREATE DATABASE nova_social;
