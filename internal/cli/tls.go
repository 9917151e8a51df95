package cli

import "github.com/logbookhq/logbook/internal/atomicfile"

// writeFileAtomic writes a file whole, with its final mode from the start.
var writeFileAtomic = atomicfile.WriteFile
