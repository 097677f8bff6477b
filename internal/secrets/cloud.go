//go:build cloud

package secrets

import (
	// The key management services, compiled in with -tags cloud.
	_ "gocloud.dev/secrets/awskms"
	_ "gocloud.dev/secrets/gcpkms"
	_ "gocloud.dev/secrets/hashivault"
)

const kmsCompiled = true
