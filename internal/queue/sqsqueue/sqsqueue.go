// Package sqsqueue is the queue.Queue on Amazon SQS, one message per job.
//
//   - Publish: SendMessage, with the message JSON as the body and the job's
//     id and attempt as message attributes; on a FIFO queue (".fifo") the
//     job is its own message group and id-attempt its deduplication id.
//   - Receive: ReceiveMessage with long polling (WaitTimeSeconds) and the
//     configured VisibilityTimeout; the receipt is SQS's receipt handle.
//   - Ack: DeleteMessage. Extend: ChangeMessageVisibility. Nack:
//     ChangeMessageVisibility to 0.
//   - Ping: GetQueueAttributes.
//
// SQS counts time in whole seconds, so waits and leases are rounded up.
// Dead-lettering is SQS's own (a redrive policy on the queue).
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
)

// DefaultVisibilityTimeout is the lease length when Options leaves it zero.
const DefaultVisibilityTimeout = 5 * time.Minute

// SQS's limits.
const (
	maxWait       = 20 * time.Second // longest long poll
	maxVisibility = 12 * time.Hour   // longest visibility timeout
)

// Options configures a Queue.
type Options struct {
	// QueueURL is the queue (PATCHPANDA_SQS_QUEUE_URL).
	QueueURL string

	// VisibilityTimeout is how long a received message stays hidden unless
	// acked or extended; zero means DefaultVisibilityTimeout. It is sent
	// with every ReceiveMessage, overriding the queue's own default.
	VisibilityTimeout time.Duration
}

// Queue is a queue.Queue on one SQS queue. Its methods are safe for
// concurrent use.
type Queue struct {
	client     *sqs.Client
	url        string
	fifo       bool
	visibility time.Duration
	closed     atomic.Bool
}

var _ queue.Queue = (*Queue)(nil)

// Open returns a Queue using the standard AWS configuration from the
// environment and shared files (credentials, AWS_REGION, and
// AWS_ENDPOINT_URL_SQS or AWS_ENDPOINT_URL for an emulator). When no region
// is configured it takes the region from an sqs.REGION.amazonaws.com queue
// URL. It returns an EINVALID error when opts.QueueURL is not an absolute
// URL, and the SDK's error when the configuration cannot be loaded. It does
// not contact SQS; call Ping for that.
func Open(ctx context.Context, opts Options) (*Queue, error) {
	u, err := url.Parse(opts.QueueURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, patchpanda.Errorf(patchpanda.EINVALID, "sqsqueue: queue URL %q is not an absolute URL like https://sqs.REGION.amazonaws.com/ACCOUNT/NAME", opts.QueueURL)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if parts := strings.Split(u.Hostname(), "."); len(parts) == 4 && parts[0] == "sqs" && parts[2] == "amazonaws" {
			cfg.Region = parts[1]
		}
	}
	return New(sqs.NewFromConfig(cfg), opts), nil
}

// New returns a Queue that uses client, which tests build with static
// credentials and a BaseEndpoint. It does not contact SQS.
func New(client *sqs.Client, opts Options) *Queue {
	if opts.VisibilityTimeout <= 0 {
		opts.VisibilityTimeout = DefaultVisibilityTimeout
	}
	return &Queue{
		client:     client,
		url:        opts.QueueURL,
		fifo:       strings.HasSuffix(opts.QueueURL, ".fifo"),
		visibility: min(opts.VisibilityTimeout, maxVisibility),
	}
}

// seconds rounds d up to whole seconds, as SQS counts them.
func seconds(d time.Duration) int32 {
	return int32(math.Ceil(d.Seconds()))
}

func (q *Queue) check(ctx context.Context, op string) error {
	if q.closed.Load() {
		return fmt.Errorf("sqsqueue: %s: %w", op, queue.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqsqueue: %s: %w", op, err)
	}
	return nil
}

// wrap names op and, when ctx has ended, makes the error wrap ctx.Err() so
// that callers can tell cancellation from failure.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sqsqueue: %s: %w", op, cerr)
	}
	return fmt.Errorf("sqsqueue: %s: %w", op, err)
}

// Publish encodes m and sends it. It returns Encode's errors,
// queue.ErrClosed after Close, and the SDK's error otherwise.
func (q *Queue) Publish(ctx context.Context, m patchpanda.Message) error {
	b, err := queue.Encode(m)
	if err != nil {
		return err
	}
	if err := q.check(ctx, "publish"); err != nil {
		return err
	}
	in := &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.url),
		MessageBody: aws.String(string(b)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"id":      {DataType: aws.String("String"), StringValue: aws.String(m.ID)},
			"attempt": {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(m.Attempt))},
		},
	}
	if q.fifo {
		// One group per job: jobs do not wait for each other. SQS drops
		// a duplicate of the same id and attempt sent within 5 minutes.
		in.MessageGroupId = aws.String(fifoID(m.ID))
		in.MessageDeduplicationId = aws.String(fifoID(m.ID + "-" + strconv.Itoa(m.Attempt)))
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return wrap(ctx, fmt.Sprintf("publish %s attempt %d", m.ID, m.Attempt), err)
	}
	return nil
}

// fifoID keeps the characters SQS allows in group and deduplication ids
// (alphanumerics and punctuation, at most 128) and replaces the rest.
func fifoID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < '!' || c > '~' {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 128)])
}

// Receive long-polls for one message, for up to wait rounded up to whole
// seconds, in polls of at most 20 seconds. It returns (nil, nil) when
// nothing arrived in time, an error wrapping ctx.Err() when ctx ends first,
// a *queue.MalformedError for a body Decode rejects, queue.ErrClosed after
// Close, and the SDK's error otherwise.
func (q *Queue) Receive(ctx context.Context, wait time.Duration) (*queue.Delivery, error) {
	deadline := time.Now().Add(wait)
	for {
		if err := q.check(ctx, "receive"); err != nil {
			return nil, err
		}
		poll := min(max(time.Until(deadline), 0), maxWait)
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.url),
			MaxNumberOfMessages:         1,
			WaitTimeSeconds:             seconds(poll),
			VisibilityTimeout:           seconds(q.visibility),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			return nil, wrap(ctx, "receive", err)
		}
		if len(out.Messages) > 0 {
			return q.delivery(out.Messages[0])
		}
		if time.Until(deadline) <= 0 {
			return nil, nil
		}
	}
}

func (q *Queue) delivery(msg types.Message) (*queue.Delivery, error) {
	receipt := aws.ToString(msg.ReceiptHandle)
	id := aws.ToString(msg.MessageId)
	d := &queue.Delivery{Receipt: receipt, LeaseExpiresAt: time.Now().Add(time.Duration(seconds(q.visibility)) * time.Second)}
	if n, err := strconv.Atoi(msg.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		d.Deliveries = n
	}
	m, err := queue.Decode([]byte(aws.ToString(msg.Body)))
	if err != nil {
		return nil, &queue.MalformedError{Receipt: receipt, ID: id, Err: err}
	}
	d.Message = m
	return d, nil
}

// leaseLost reports whether err is SQS saying that a receipt handle no
// longer names a message in flight. Real SQS and emulators spell it
// differently.
func leaseLost(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	code := strings.ToLower(api.ErrorCode())
	for _, s := range []string{"receipthandleisinvalid", "messagenotinflight", "messagedoesnotexist"} {
		if strings.Contains(code, s) {
			return true
		}
	}
	// SQS answers a ChangeMessageVisibility for a message no longer in
	// flight with InvalidParameterValue about the ReceiptHandle.
	if strings.Contains(code, "invalidparametervalue") && strings.Contains(api.ErrorMessage(), "ReceiptHandle") {
		return true
	}
	// goaws answers a DeleteMessage for a message it no longer has with
	// code "AWS.SimpleQueueService.QueueExists" and the text below.
	return strings.Contains(api.ErrorMessage(), "does not contain the message specified")
}

// Ack deletes the message. It returns an error wrapping queue.ErrLeaseLost
// when SQS no longer knows the receipt handle (real SQS usually answers
// success for a stale handle, without deleting a message that was received
// again since), queue.ErrClosed after Close, and the SDK's error otherwise.
func (q *Queue) Ack(ctx context.Context, receipt string) error {
	if err := q.check(ctx, "ack"); err != nil {
		return err
	}
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receipt)})
	if err != nil {
		if leaseLost(err) {
			return fmt.Errorf("sqsqueue: ack: %w", queue.ErrLeaseLost)
		}
		return wrap(ctx, "ack", err)
	}
	return nil
}

func (q *Queue) changeVisibility(ctx context.Context, op, receipt string, secs int32) error {
	if err := q.check(ctx, op); err != nil {
		return err
	}
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.url),
		ReceiptHandle:     aws.String(receipt),
		VisibilityTimeout: secs,
	})
	if err != nil {
		if leaseLost(err) {
			return fmt.Errorf("sqsqueue: %s: %w", op, queue.ErrLeaseLost)
		}
		return wrap(ctx, op, err)
	}
	return nil
}

// Nack makes the message visible again at once. It returns an error
// wrapping queue.ErrLeaseLost when SQS no longer knows the receipt handle,
// queue.ErrClosed after Close, and the SDK's error otherwise.
func (q *Queue) Nack(ctx context.Context, receipt string) error {
	return q.changeVisibility(ctx, "nack", receipt, 0)
}

// Extend hides the message for d from now, rounded up to whole seconds and
// capped at 12 hours (SQS also refuses to extend past 12 hours after the
// first receive). It returns an EINVALID error for a d that is not
// positive, an error wrapping queue.ErrLeaseLost when SQS no longer knows
// the receipt handle, queue.ErrClosed after Close, and the SDK's error
// otherwise.
func (q *Queue) Extend(ctx context.Context, receipt string, d time.Duration) error {
	if d <= 0 {
		return patchpanda.Errorf(patchpanda.EINVALID, "sqsqueue: extend by %v: want a positive duration", d)
	}
	return q.changeVisibility(ctx, "extend", receipt, seconds(min(d, maxVisibility)))
}

// Ping asks for the queue's attributes. It returns an error wrapping the
// SDK's when SQS cannot be reached or the queue does not exist, and
// queue.ErrClosed after Close.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.check(ctx, "ping"); err != nil {
		return err
	}
	_, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

// Close makes later calls fail with queue.ErrClosed. The SDK client holds
// no connections that need closing. It returns nil.
func (q *Queue) Close() error {
	q.closed.Store(true)
	return nil
}
