package services

import "context"

type actorKey struct{}

// WithActor returns ctx naming who acts, for what services record of a
// change outside the audit log: a timed ban's "chosen by", an allow-list
// entry's "added by".
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

// ActorOf returns the name WithActor put in ctx, or "".
func ActorOf(ctx context.Context) string {
	name, _ := ctx.Value(actorKey{}).(string)
	return name
}
