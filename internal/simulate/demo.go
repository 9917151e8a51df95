package simulate

import "time"

// Demo returns the Config of the first-run demo: a small organisation
// (25 people) whose last three days of activity end at now, a few thousand
// events. Feed it to New and call Run(now, ...) to get them all; events
// that would arrive after now are not emitted.
func Demo(accountUUID string, now time.Time) Config {
	return Config{
		Seed:        20260101,
		Start:       now.UTC().Add(-72 * time.Hour).Truncate(time.Hour),
		AccountUUID: accountUUID,
		Users:       25,
	}
}
