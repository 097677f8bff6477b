//go:build !kms

package secrets

// kmsCompiled says whether the awskms, gcpkms and hashivault drivers are
// compiled in (build tag "kms").
const kmsCompiled = false
