//go:build cloud

package coveragesvc

import (
	// The cloud buckets, compiled in with -tags cloud: s3:// and gs://.
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)
