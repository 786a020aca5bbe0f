-- claudecost 1.0 -> 1.1: upgrade script.
--
-- Every change made to schema/ since 1.0 appears here as well, in the same
-- order.  tools/test-suites.d/upgrade compares an upgraded catalog with a
-- fresh 1.1 install.

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION claudecost UPDATE TO '1.1'" to load this file. \quit
