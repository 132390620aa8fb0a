// Package queue puts jobs on the asynq queue. The job id is the asynq task
// id and the whole payload: the record in the store holds kind and input,
// so there is one source of truth for what a job is.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const (
	// TaskType is the one asynq task type; the kind lives in the record.
	TaskType = "job:run"
	// Name is the asynq queue.
	Name = "default"
	// MaxRetry bounds retries after the first attempt: a job runs at most
	// MaxRetry+1 times, then ends failed.
	MaxRetry = 3
	// Timeout is longer than the longest job (sleep's 30 s) so only a stuck
	// job hits it.
	Timeout = 2 * time.Minute
)

// Queue enqueues and withdraws job tasks.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
}

// New shares the caller's Redis client, so the API keeps one pool.
func New(rdb redis.UniversalClient) *Queue {
	return &Queue{client: asynq.NewClientFromRedisClient(rdb), inspector: asynq.NewInspectorFromRedisClient(rdb)}
}

// Enqueue puts the job on the queue.
func (q *Queue) Enqueue(ctx context.Context, id string) error {
	_, err := q.client.EnqueueContext(ctx, asynq.NewTask(TaskType, []byte(id)),
		asynq.TaskID(id), asynq.Queue(Name), asynq.MaxRetry(MaxRetry), asynq.Timeout(Timeout))
	return err
}

// Withdraw removes a deleted job's pending task so it does not take a worker
// slot. Best effort: if a worker has it already, the worker finds the record
// gone and drops it.
func (q *Queue) Withdraw(_ context.Context, id string) error {
	err := q.inspector.DeleteTask(Name, id)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return nil
	}
	return err
}
