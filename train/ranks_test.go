package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/mpi"
)

// rankRun is one rank's outcome.
type rankRun struct {
	res *Result
	out string
	err error
}

// runRanks runs one Run per configuration, each a rank of one in-process
// world, concurrently; opts, when set, adjusts rank i's Options.
func runRanks(t *testing.T, ctx context.Context, cfgs []config.Config, opts func(i int, o *Options)) []rankRun {
	t.Helper()
	comms := newWorld(len(cfgs))
	out := make([]rankRun, len(cfgs))
	var wg sync.WaitGroup
	for i, c := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			o := Options{Config: c, Out: &buf, Comm: comms[i], TrainSet: synthSet(1, 256), TestSet: synthSet(2, 128)}
			if opts != nil {
				opts(i, &o)
			}
			res, err := Run(ctx, o)
			out[i] = rankRun{res, buf.String(), err}
		}()
	}
	wg.Wait()
	return out
}

func TestTwoRanksTrainLikeOneRankZeroAloneWrites(t *testing.T) {
	heavyOnRef(t)
	single := parallelConfig(t)
	_, err := runSets(t, context.Background(), single, Options{}, synthSet(1, 256), synthSet(2, 128))
	require.NoError(t, err)
	ref, _ := readJSONL(t, single.MetricsJSONL)

	c0, c1 := parallelConfig(t), parallelConfig(t) // rank 1's own folder: it must stay empty
	runs := runRanks(t, context.Background(), []config.Config{c0, c1}, nil)
	require.NoError(t, runs[0].err)
	require.NoError(t, runs[1].err)
	ls := lines(runs[0].out)
	require.Len(t, ls, 3, runs[0].out)
	assert.Equal(t, "training on pure-Go reference (ref:0) (rank 0 of 2)", ls[0])
	assert.Regexp(t, reEpoch, ls[1])
	assert.Regexp(t, reTotal, ls[2])
	assert.Empty(t, runs[1].out, "rank 1 prints nothing")
	assert.Empty(t, files(t, c1.CheckpointDir), "rank 1 writes nothing")
	assert.Equal(t, runs[0].res.Checkpoint, runs[1].res.Checkpoint, "rank 1 names rank 0's checkpoint")

	got, _ := readJSONL(t, c0.MetricsJSONL)
	closeLosses(t, ref, got, 1e-5, 1e-5)
	closeParams(t, filepath.Join(single.CheckpointDir, checkpoint.Name(6)), runs[0].res.Checkpoint, 1e-5, 1e-4)
	_, _, st, err := checkpoint.LoadCheckpoint(runs[0].res.Checkpoint)
	require.NoError(t, err)
	assert.Equal(t, "2", st.Extra[extraRanks])

	// It resumes only with two ranks.
	one := parallelConfig(t)
	one.Resume, one.Epochs = c0.CheckpointDir, 2
	_, err = runSets(t, context.Background(), one, Options{Explicit: map[string]bool{"epochs": true}}, synthSet(1, 256), synthSet(2, 128))
	require.ErrorContains(t, err, "was trained by 2 ranks but this run has 1; resume it with the same number of ranks (mpirun -np 2 crossgrad train --resume ...)")
}

func TestRanksWithDifferentConfigurationsAreRefused(t *testing.T) {
	c0, c1 := parallelConfig(t), parallelConfig(t)
	c1.LR, c1.Seed, c1.LogLevel, c1.Devices = 0.002, 5, "debug", []string{"ref:0"}
	runs := runRanks(t, context.Background(), []config.Config{c0, c1}, nil)
	for i, r := range runs {
		require.Error(t, r.err, "rank %d", i)
		assert.Contains(t, r.err.Error(), "train: the ranks of this distributed run have different configurations: lr (rank 0: 0.001, rank 1: 0.002); seed (rank 0: 1, rank 1: 5); give every rank the same settings (only backend, devices,", "rank %d", i)
		assert.NotContains(t, r.err.Error(), "log_level (", "rank %d", i)
		assert.Empty(t, r.out)
	}
	assert.Empty(t, files(t, c0.CheckpointDir))
}

func TestFailingRankStopsTheOthersNamingItAndTheCheckpoint(t *testing.T) {
	c0, c1 := parallelConfig(t), parallelConfig(t)
	c0.CheckpointEverySteps, c1.CheckpointEverySteps = 2, 2
	start := time.Now()
	runs := runRanks(t, context.Background(), []config.Config{c0, c1}, func(i int, o *Options) {
		if i == 1 {
			o.BeforeStep = func(step int, _ *graph.Plan) error {
				if step == 4 {
					return errors.New("injected fault")
				}
				return nil
			}
		}
	})
	assert.Less(t, time.Since(start), 60*time.Second)
	require.ErrorContains(t, runs[1].err, "injected fault")
	require.Error(t, runs[0].err)
	var re *mpi.RankError
	require.ErrorAs(t, runs[0].err, &re)
	assert.Equal(t, 1, re.Rank)
	ckpt := filepath.Join(c0.CheckpointDir, checkpoint.Name(2))
	assert.Contains(t, runs[0].err.Error(), "mpi: rank 1 failed: injected fault")
	assert.Contains(t, runs[0].err.Error(), fmt.Sprintf("last checkpoint written: %s (resume with: crossgrad train --resume %s)", ckpt, c0.CheckpointDir))
	assert.FileExists(t, ckpt)
}

func TestRankWaitingForAGoneRankStopsWhenInterrupted(t *testing.T) {
	comms := newWorld(2)
	c := parallelConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { // rank 1 never starts: rank 0 waits for it in the first collective
		_, err := Run(ctx, Options{Config: c, Comm: comms[0], TrainSet: synthSet(1, 256), TestSet: synthSet(2, 128)})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("rank 0 did not stop after its context was cancelled")
	}
	comms[1].Fail("test over") // releases rank 0's blocked goroutine
	var he *HungError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, err.Error(), "train: interrupted after step 0 while waiting for the other ranks (no answer within 500ms of the signal): mpirun stops every rank when one ends")
	assert.Contains(t, err.Error(), "no checkpoint was written, nothing to resume from")
}
