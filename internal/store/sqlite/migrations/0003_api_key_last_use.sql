-- 0003: when each API key was last used (ingest keys record it at most
-- once a minute), for listing keys before revoking them.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
