-- 0007: each account's serving window, how far back the Events API serves
-- its events, in seconds: 0 is the server's (serve --serve-window), -1 is
-- forever. Serving less never deletes anything (serve --delete-after does).
ALTER TABLE accounts ADD COLUMN serve_window INTEGER NOT NULL DEFAULT 0;
