-- The rollups' rebuild lock (0015) named one lock for the whole database, so one shop's
-- refresh made every other shop's wait. Each rebuild function is redefined with the lock
-- named after its schema: the same rebuild, one lock per shop.
DO $$
DECLARE
    fn REGPROCEDURE;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          AND pg_get_functiondef(p.oid)
              LIKE '%hashtext(''possync analytics_refresh_product_periods'')%'
    LOOP
        EXECUTE replace(
            pg_get_functiondef(fn),
            $old$hashtext('possync analytics_refresh_product_periods')$old$,
            $new$hashtext('possync analytics_refresh_product_periods/' || current_schema())$new$);
    END LOOP;
END $$;
