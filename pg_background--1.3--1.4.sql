/* pg_background--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_background UPDATE TO '1.4'" to load this file. \quit

-- Version 1.4 changed only the C library: no SQL object changes.
