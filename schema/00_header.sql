-- claudecost 1.1: install script.
--
-- Assembled by `make` from the fragments in schema/ (one concept per file, in
-- file-name order).  Edit the fragments, not claudecost--1.1.sql, and put
-- every change into the upgrade script claudecost--1.0--1.1.sql as well.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION claudecost" to load this file. \quit
