package sqsqueue_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/patchpanda/patchpanda/internal/patchpanda"
	"github.com/patchpanda/patchpanda/internal/queue"
	"github.com/patchpanda/patchpanda/internal/queue/queuetest"
	"github.com/patchpanda/patchpanda/internal/queue/sqsqueue"
)

// emulator returns a client for the SQS at AWS_ENDPOINT_URL_SQS and the
// queue at PATCHPANDA_TEST_SQS_URL, after checking that the queue answers.
// It skips the test when either is unset or unreachable, and fails it
// instead when CI=true. testdata/start-goaws.sh starts an emulator and
// prints both.
func emulator(t *testing.T) (*sqs.Client, string) {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	queueURL := os.Getenv("PATCHPANDA_TEST_SQS_URL")
	miss := t.Skipf
	if os.Getenv("CI") == "true" {
		miss = t.Fatalf
	}
	if endpoint == "" || queueURL == "" {
		miss("PATCHPANDA_TEST_SQS_URL and AWS_ENDPOINT_URL_SQS are not both set; run eval \"$(internal/queue/sqsqueue/testdata/start-goaws.sh)\" (see docs/queue.md)")
		return nil, ""
	}
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := sqsqueue.New(client, sqsqueue.Options{QueueURL: queueURL}).Ping(ctx); err != nil {
		miss("the SQS queue at PATCHPANDA_TEST_SQS_URL does not answer: %v", err)
	}
	return client, queueURL
}

// testQueue creates a queue of the test's own and deletes it when the test
// ends.
func testQueue(t *testing.T, client *sqs.Client, visibility time.Duration) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{
		QueueName: aws.String("patchpanda-test-" + hex.EncodeToString(b[:])),
		Attributes: map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(visibility.Seconds())),
		},
	})
	if err != nil {
		t.Fatalf("create test queue: %v", err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Errorf("delete test queue %s: %v", url, err)
		}
	})
	return url
}

func TestConformance(t *testing.T) {
	client, _ := emulator(t)
	queuetest.Run(t, func(t *testing.T, visibility time.Duration) queue.Queue {
		q := sqsqueue.New(client, sqsqueue.Options{QueueURL: testQueue(t, client, visibility), VisibilityTimeout: visibility})
		t.Cleanup(func() { q.Close() })
		return q
	})
}

func TestMessageAttributesCarryIDAndAttempt(t *testing.T) {
	client, _ := emulator(t)
	url := testQueue(t, client, time.Minute)
	q := sqsqueue.New(client, sqsqueue.Options{QueueURL: url})
	ctx := t.Context()
	if err := q.Publish(ctx, queuetest.Message("job-9", 4)); err != nil {
		t.Fatal(err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 5, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %v, %v", out, err)
	}
	attrs := out.Messages[0].MessageAttributes
	if got := aws.ToString(attrs["id"].StringValue); got != "job-9" {
		t.Errorf("attribute id = %q, want job-9", got)
	}
	if got := aws.ToString(attrs["attempt"].StringValue); got != "4" {
		t.Errorf("attribute attempt = %q, want 4", got)
	}
}

func TestMalformedBody(t *testing.T) {
	client, _ := emulator(t)
	url := testQueue(t, client, time.Minute)
	q := sqsqueue.New(client, sqsqueue.Options{QueueURL: url})
	ctx := t.Context()
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"version":3}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := q.Receive(ctx, 5*time.Second)
	var bad *queue.MalformedError
	if !errors.As(err, &bad) {
		t.Fatalf("Receive of a version 3 body = %v, want a *queue.MalformedError", err)
	}
	if err := q.Ack(ctx, bad.Receipt); err != nil {
		t.Fatalf("Ack of the bad message: %v", err)
	}
}

func TestPingFailsForAMissingQueue(t *testing.T) {
	client, queueURL := emulator(t)
	q := sqsqueue.New(client, sqsqueue.Options{QueueURL: queueURL + "-does-not-exist"})
	if err := q.Ping(t.Context()); err == nil {
		t.Error("Ping of a queue that does not exist = nil, want an error")
	}
}

func TestOpenRejectsARelativeURL(t *testing.T) {
	_, err := sqsqueue.Open(t.Context(), sqsqueue.Options{QueueURL: "patchpanda-jobs"})
	if patchpanda.ErrorCode(err) != patchpanda.EINVALID {
		t.Errorf("Open(relative URL) = %v, want an EINVALID error", err)
	}
}

func TestOpenHonoursTheEndpointVariable(t *testing.T) {
	_, queueURL := emulator(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	q, err := sqsqueue.Open(t.Context(), sqsqueue.Options{QueueURL: queueURL})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := q.Ping(t.Context()); err != nil {
		t.Errorf("Ping through AWS_ENDPOINT_URL_SQS: %v", err)
	}
}
