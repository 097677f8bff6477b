// Package migrations embeds the SQL migrations of the relay's database, one
// directory per dialect, applied in order by goose (see internal/store).
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
