//go:build kms

package secrets

import (
	// The key management services, compiled in with -tags kms.
	_ "gocloud.dev/secrets/awskms"
	_ "gocloud.dev/secrets/gcpkms"
	_ "gocloud.dev/secrets/hashivault"
)

const kmsCompiled = true
