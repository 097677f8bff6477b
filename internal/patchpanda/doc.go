// Package patchpanda holds PatchPanda's domain types and errors. It imports
// only the standard library so that every other package can depend on it
// without pulling in infrastructure.
package patchpanda
