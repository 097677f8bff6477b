// Package arch has no code: its test (arch_test.go) keeps the layering of
// docs/architecture.md, over `go list -deps -json` of the whole module.
package arch
