//go:build !cloud

package secrets

// kmsCompiled says whether the awskms, gcpkms and hashivault drivers are
// compiled in (build tag "cloud").
const kmsCompiled = false
