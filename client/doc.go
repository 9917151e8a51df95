// Package client is a Go client for any server that speaks the 1Password
// Events API: 1Password's own (events.1password.com and its siblings) or a
// Logbook server.
//
// Create a client with New. With an empty base URL the client calls
// https:// plus the first "aud" claim of the token, as 1Password's own
// connectors do:
//
//	c, err := client.New("", token)
//	for ev, err := range c.AuditEventsSeq(ctx, events.ResetCursor{Limit: 1000}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(ev.Timestamp, ev.Action)
//	}
//
// Every method takes a context first. A reply other than 2xx is returned
// as a *Error carrying the status, the server's message and any
// Retry-After. The client never retries: callers decide (the forwarder
// shares one rate budget among many streams).
//
// RawPage returns events as the bytes the server sent, without decoding
// them, for callers that pass events through. SplitPage and EachField are
// the scanner it uses, exported for such callers: SplitPage cuts a page
// body into its items, EachField walks one item's top-level fields.
//
// Against a Logbook server, a Witness checks that the events received are
// those the server committed: each is a leaf of the stream's newest signed
// tree head (an inclusion proof), each head is signed by one of the
// server's tree keys (ParseTreeKeys reads the JWKS of `logbook keys
// tree-public`), and each new head extends the last one accepted (a
// consistency proof). See docs/integrity.md.
//
// The package imports only the standard library and packages events and
// proof.
package client
