-- A send reads the conversation's members and devices before its transaction
-- and stores only if nothing changed since (ADR 034): a membership change
-- must therefore change the conversation row. Counted by a trigger so every
-- path (add, leave, account deletion) bumps it.
ALTER TABLE conversations ADD COLUMN members_version bigint NOT NULL DEFAULT 0;

-- SET search_path FROM CURRENT: the body runs in this service's schema
-- whatever the session's search_path is.
CREATE FUNCTION bump_members_version() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE conversations SET members_version = members_version + 1
   WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.conversation_id ELSE NEW.conversation_id END);
  RETURN NULL;
END $$;

CREATE TRIGGER conversation_members_version
  AFTER INSERT OR DELETE ON conversation_members
  FOR EACH ROW EXECUTE FUNCTION bump_members_version();
