-- claudecost 1.0: install script.
--
-- Assembled by `make` from the fragments in schema/ (one concept per file, in
-- file-name order).  Edit the fragments, not claudecost--1.0.sql.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION claudecost" to load this file. \quit
