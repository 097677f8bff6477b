// Package webhook turns GitHub webhook requests into verified deliveries and
// typed events. It does no I/O beyond reading the request body: the HTTP
// layer records what Read returns and answers, and the dispatcher later calls
// Parse on the stored payload.
//
// Processing a request is three separate steps, each testable alone:
//
//	Verifier.Verify   the X-Hub-Signature-256 header against the raw body
//	Verifier.Read     limits, signature, media type, headers, JSON: a Delivery
//	Parse             a stored payload into a PingEvent, IssueCommentEvent, …
package webhook
