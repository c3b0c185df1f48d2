-- Roll back 0019: nothing stateful to undo; the older checkout's sql/ brings
-- back the functions as they were.
SELECT 1;
