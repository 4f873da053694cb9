// Package parallel trains one model data-parallel on several replicas: one
// graph.Plan per device in this process and, through a Reducer, on the
// devices of other processes (MPI ranks). Each step every replica runs
// forward and backward on its share of the global batch, the gradients
// are summed on the host in a fixed order (replica order, then ranks), and
// every replica applies the same optimizer update, so the replicas stay
// bit-identical (checked by a parameter checksum every ChecksumEvery
// steps).
package parallel

import (
	"log/slog"
	"time"

	"github.com/crossgrad/crossgrad/graph"
)

// Reducer sums host buffers across processes. Every method is collective:
// every rank calls it in the same order.
type Reducer interface {
	// Rank is this process's index in [0, Size).
	Rank() int
	// Size is the number of processes.
	Size() int
	// AllreduceSum replaces buf (caller-owned, the same length on every
	// rank) by its elementwise sum over the ranks, bit-identical on every
	// rank.
	AllreduceSum(buf []float32) error
	// Agree reports whether every rank passed the same v.
	Agree(v uint64) (bool, error)
}

// Options configure a Group.
type Options struct {
	// Names name the replicas in logs and errors (e.g. "opencl:0"), one per
	// plan; empty names use "replica N".
	Names []string
	// Shares fixes each replica's share of this rank's images (any positive
	// weights, one per plan; device_shares); nil balances them from
	// measured step times: rounds of BalanceSteps steps, each round fitting
	// every replica's step time as a fixed cost plus a cost per image and
	// setting the shares that equalise them, until a round's times agree
	// within 5% or after 4 rounds (Balanced then reports true).
	Shares []float64
	// BalanceSteps is the length of a balancing round in steps (0 means
	// 3); the first step of the first round is a warm-up and not timed.
	BalanceSteps int
	// Reducer sums across processes; nil trains in this process only.
	Reducer Reducer
	// ChecksumEvery compares the replicas' (and ranks') parameter checksums
	// every that many steps; 0 never does.
	ChecksumEvery int
	// Log receives the balancing and checksum records; nil discards.
	Log *slog.Logger
}

// Timing is what the last TrainStep spent, for logs and bench.
type Timing struct {
	// Images is each replica's number of images (0 when it had none).
	Images []int
	// Compute is each replica's upload + forward + backward + gradient
	// read time.
	Compute []time.Duration
	// Reduce is the host-side sum, the Reducer's allreduce and the
	// gradient writes back.
	Reduce time.Duration
	// Allreduce is the Reducer's part of Reduce (0 without a Reducer).
	Allreduce time.Duration
	// Update is the optimizer update on every replica.
	Update time.Duration
	// Bytes is the gradient bytes one replica's read moved.
	Bytes int64
}

// Group is a set of replicas of one model, one graph.Plan each, trained as
// one. It owns nothing: the caller closes the plans and their devices. A
// Group is not safe for concurrent use.
type Group struct {
	plans []*graph.Plan
	opts  Options
	*state
}

// New makes a group of plans, which must plan the same model with the same
// parameter values and batch capacity (checked by Checksum and GradLen).
func New(plans []*graph.Plan, o Options) (*Group, error) { return newGroup(plans, o) }

// TrainStep runs training step `step` (1-based) on the global batch of
// len(labels) images (images packed by backend.PackBytes, as data.Batch);
// every rank passes the same global batch and trains on its part (rank r
// of Size: an equal contiguous slice), split over the replicas by their
// shares. It returns the statistics of the whole global batch (mean loss,
// correct count, N = len(labels)), the same on every rank. A replica or
// rank failure is returned naming the replica (or rank).
func (g *Group) TrainStep(step int, images, labels []float32) (graph.Stats, error) {
	return g.trainStep(step, images, labels)
}

// Eval runs the forward pass in evaluation mode on the global batch,
// sharded as TrainStep, and returns the statistics summed over replicas and
// ranks (mean loss over len(labels) images, correct count).
func (g *Group) Eval(images, labels []float32) (graph.Stats, error) { return g.eval(images, labels) }

// Check compares the checksums of every replica and, through the Reducer,
// of every rank; a difference is an error naming the replicas.
func (g *Group) Check() error { return g.check() }

// Shares is each replica's current share of this rank's images (sums to 1).
func (g *Group) Shares() []float64 { return normalized(g.shares) }

// LastTiming is the Timing of the last TrainStep.
func (g *Group) LastTiming() Timing { return g.timing.clone() }

// Plans are the replicas' plans, in order (replica 0 is the one
// checkpoints are read from).
func (g *Group) Plans() []*graph.Plan { return g.plans }
