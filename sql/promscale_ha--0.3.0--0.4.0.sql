-- promscale_ha 0.3.0 -> 0.4.0.  Run by ALTER EXTENSION promscale_ha UPDATE; a new
-- install runs promscale_ha--0.1.0.sql and each upgrade script in turn, so both paths
-- give the same database.  Released scripts never change: later changes go into the
-- next upgrade script.  Each change below is a section with a header comment.
\echo Use "ALTER EXTENSION promscale_ha UPDATE" to load this file. \quit

----------------------------------------------------------------------------------------
-- Chunks stored in their row up to 8 kB
--
-- A 2-hour xor chunk of a 15 s series is about 2.1 kB: above PostgreSQL's TOAST
-- threshold (2 kB), so each went to the TOAST table as two TOAST rows, and every read
-- of a chunk was a second index lookup.  With toast_tuple_target at its maximum a chunk
-- row stays in the heap unless it would not fit a page.  Measured on 4 h of node data
-- (16,410 series, xor): 5.37 -> 4.70 bytes per sample (chunks with their indexes and
-- TOAST), remote read of 9,846 series x 1 h 191 -> 174 ms.  Existing rows move when
-- they are rewritten (a late write merged into them); nothing is rewritten here.
----------------------------------------------------------------------------------------
ALTER TABLE promscale_ha.chunks SET (toast_tuple_target = 8160);
