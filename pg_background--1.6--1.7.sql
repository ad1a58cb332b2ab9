/* pg_background--1.6--1.7.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_background UPDATE TO '1.7'" to load this file. \quit

-- 1.7 changes no SQL object: its changes are in the C library (cookies from
-- a strong random source, internal fixes).
