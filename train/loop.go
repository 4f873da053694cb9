package train

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/crossgrad/crossgrad/backend"
	"github.com/crossgrad/crossgrad/checkpoint"
	"github.com/crossgrad/crossgrad/config"
	"github.com/crossgrad/crossgrad/data"
	"github.com/crossgrad/crossgrad/graph"
	"github.com/crossgrad/crossgrad/parallel"
)

// accum sums the figures of the epoch in progress.
type accum struct {
	lossSum float64 // sum of batch loss * batch images
	correct int64
	images  int64
	seconds float64 // summed step times
}

// run is the state of one Run call.
type run struct {
	cfg    config.Config
	opts   Options
	log    *slog.Logger
	out    io.Writer
	op     *Opened   // replica 0: the one device of a single-device run
	ops    []*Opened // every replica, op first
	group  *parallel.Group
	comm   Comm // nil unless the run is distributed
	rank   int
	ranks  int
	mark   *progressMark // what Run may read while the loop runs
	device string
	trainB *data.Batcher
	testB  *data.Batcher
	mw     *metricsWriter

	step, epoch, batch int // steps done; epoch in progress (0-based); next batch of it
	ep                 accum
	totalSeconds       float64
	totalImages        int64
	history            []EpochMetrics

	phase    string   // "resume", "training", "evaluation" or "checkpoint", for DeviceError
	saved    position // position of the last checkpoint
	savedAt  time.Time
	lastCkpt string
	timed    []float64 // step seconds of this process, for the CPU estimate

	finite finiteState // non-finite checks and the divergence warning (finite.go)

	metricsErr error  // first metrics write that failed
	metricsMsg string // last metrics failure logged
}

// Run trains the model of o.Config: it resumes from Config.Resume when set,
// loads the data, opens the first working backend of the fallback list (or
// every device of Config.Devices, one replica each, trained as one through
// a parallel.Group) and trains the remaining epochs, printing the seed's
// lines to o.Out; before the first step the tiled kernels get their
// configurations as Config.Tune says (ApplyTune). The model is built (its
// options validated, a resumed checkpoint's tensors checked against it)
// before any output is touched; every output path is then checked for
// writability; the run folder is locked for the whole call (another
// process writing it is refused, naming its PID), and a folder holding
// another run is refused unless o.Force. The effective configuration goes
// to ConfigFile in the folder. Errors before training starts leave no
// files behind. A NaN or Inf loss returns a *NonFiniteError; a cancelled
// ctx finishes the step in flight, saves a checkpoint and returns an
// *InterruptedError; a failed or stalled device call returns a
// *DeviceError naming the device (see supervise for stalls); every error
// after training started names the last checkpoint and how to resume. A
// metrics file that cannot be written is logged as an error and costs no
// checkpoint; Run then trains to the end and returns an error saying so.
// The Result is returned with the figures so far also on those errors.
//
// When distributed resolves to mpi (or o.Comm is set) the process is one
// rank of a distributed run: the ranks' configurations must agree (but for
// rankKeys), every rank trains its slice of every global batch, rank 0
// alone prints, writes and locks the run folder, and a rank that fails
// tells the others (Comm.Fail), which stop with an error naming it.
func Run(ctx context.Context, o Options) (*Result, error) {
	cfg := o.Config
	log := orDiscard(o.Log)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	comm, finalize, err := startDistributed(cfg, o, log)
	if err != nil {
		return nil, err
	}
	mark := &progressMark{}
	if comm == nil {
		return runRank(ctx, o, cfg, log, nil, mark)
	}
	res, err, stuck := watchRank(ctx, mark, func() (*Result, error) { return runRank(ctx, o, cfg, log, comm, mark) })
	if err != nil && !isRankError(err) && !stuck { // a stuck rank's Comm is busy in the collective
		comm.Fail(failReason(err))
	}
	// MPI_Finalize waits for every rank: only a run that ended well on
	// every rank reaches it on all of them.
	if err == nil && !stuck {
		finalize()
	}
	return res, err
}

// runRank is Run of this process, one rank of comm's run when comm is not
// nil.
func runRank(ctx context.Context, o Options, cfg config.Config, log *slog.Logger, comm Comm, mark *progressMark) (*Result, error) {
	rank, ranks := 0, 1
	if comm != nil {
		rank, ranks = comm.Rank(), comm.Size()
		if rank != 0 {
			log = log.With("rank", rank)
		}
	}
	lead := rank == 0
	mark.setDir(cfg.CheckpointDir)
	var rs *resumed
	if cfg.Resume != "" {
		var err error
		if rs, err = loadResume(&cfg, o.Explicit, log); err != nil {
			return nil, err
		}
		if err := checkRanks(rs, ranks); err != nil {
			return nil, err
		}
	}
	if cfg.BatchSize < cfg.Replicas()*ranks {
		return nil, config.BatchTooSmall(cfg.BatchSize, cfg.Replicas(), ranks)
	}
	if comm != nil {
		if err := agreeConfig(comm, &cfg); err != nil {
			return nil, err
		}
		mark.setDir(cfg.CheckpointDir)
	}
	// The model and its options before any file is touched: bad input
	// leaves nothing behind.
	model, err := NewModel(cfg)
	if err != nil {
		return nil, err
	}
	if rs != nil {
		if err := CheckTensors(model.Sequential, rs.params, ModelDesc(cfg), rs.path); err != nil {
			return nil, err
		}
	}
	var previous []string
	if lead {
		if err := checkWritable(cfg); err != nil {
			return nil, err
		}
		lock, err := lockRunDir(cfg.CheckpointDir)
		if err != nil {
			return nil, err
		}
		defer lock.release()
		if previous, err = previousRun(cfg, rs, o.Force); err != nil {
			return nil, err
		}
		if rs != nil {
			removeStaleTemps(cfg.CheckpointDir, log)
		}
	}
	trainSet, testSet := o.TrainSet, o.TestSet
	if trainSet == nil || testSet == nil {
		if trainSet, err = data.Load(cfg.DataDir, true); err != nil {
			return nil, err
		}
		if testSet, err = data.Load(cfg.DataDir, false); err != nil {
			return nil, err
		}
	}
	seed := uint64(cfg.Seed)
	trainB, err := data.NewBatcher(trainSet, data.Options{BatchSize: cfg.BatchSize, Shuffle: true, Seed: seed, Limit: cfg.TrainLimit, Prefetch: 2})
	if err != nil {
		return nil, err
	}
	testB, err := data.NewBatcher(testSet, data.Options{BatchSize: cfg.BatchSize, Limit: cfg.TestLimit, Prefetch: 2})
	if err != nil {
		return nil, err
	}
	if rs != nil && (rs.state.Epoch > cfg.Epochs || rs.state.Batch > trainB.NumBatches()) {
		return nil, fmt.Errorf("train: resume: %s is at epoch %d, batch %d, outside this run's %d epochs of %d batches (were batch_size or train_limit changed?)",
			rs.path, rs.state.Epoch+1, rs.state.Batch, cfg.Epochs, trainB.NumBatches())
	}
	if rs != nil && rs.state.Epoch == cfg.Epochs {
		log.Warn(fmt.Sprintf("the run in %s has finished all %d epochs: nothing to train (give --epochs %d or more to train further)",
			cfg.CheckpointDir, cfg.Epochs, cfg.Epochs+1))
	}

	// Each rank plans for its whole slice of the global batch: any replica
	// may get all of it.
	ops, err := openReplicas(cfg, (cfg.BatchSize+ranks-1)/ranks, model, log, o.WrapDevice)
	if err != nil {
		if rs != nil {
			return nil, fmt.Errorf("%w; nothing was trained: the last checkpoint is still %s", err, rs.path)
		}
		return nil, err
	}
	infos := make([]backend.Info, len(ops))
	for i, op := range ops {
		infos[i] = op.Dev.Info()
	}
	device := DevicesName(infos)
	r := &run{cfg: cfg, opts: o, log: log, out: o.Out, op: ops[0], ops: ops, comm: comm, rank: rank, ranks: ranks, mark: mark, device: device,
		trainB: trainB, testB: testB, saved: position{-1, -1, -1}, savedAt: time.Now(),
		mw: &metricsWriter{files: MetricsPaths(cfg.MetricsJSONL, cfg.MetricsCSV), title: PlotTitle(cfg, device)}}
	if !lead {
		r.out, r.opts.Progress, r.mw.files = nil, nil, MetricsFiles{}
	}
	if r.out == nil {
		r.out = io.Discard
	}
	if err := r.start(rs, previous); err != nil {
		_ = closeAll(ops)
		return nil, err
	}
	res, err := r.supervise(ctx)
	if res != nil {
		return res, err // stalled: the devices and metrics file stay with the stuck goroutine
	}
	err = r.stopped(err)
	if cerr := r.mw.close(); cerr != nil {
		r.metricsFailed(cerr)
	}
	_ = closeAll(ops) // after a device fault Close may fail too; err says why
	if err == nil && r.metricsErr != nil {
		err = fmt.Errorf("train: training finished and its checkpoints are saved (last: %s), but metrics could not be written: %w", r.lastCkpt, r.metricsErr)
	}
	return r.result(), err
}

// start prepares the opened devices for the first step: tuning, the
// previous run's files deleted (previous), the resumed state loaded into
// every replica, the configuration file written (rank 0) and the replica
// group made when the run has several replicas or ranks.
func (r *run) start(rs *resumed, previous []string) error {
	if err := r.applyTune(); err != nil {
		return err
	}
	if err := removeRunFiles(previous, r.log); err != nil {
		return err
	}
	if rs != nil {
		r.phase, r.lastCkpt = "resume", rs.path
		if err := r.load(rs); err != nil {
			return r.stopped(r.deviceError(err))
		}
		if was := rs.state.Extra[extraDevice]; was != "" && was != r.device {
			r.log.Warn(fmt.Sprintf("the run was trained on %s and now continues on %s (backend %s): its numbers will differ from an uninterrupted run; set --backend to choose the device",
				was, r.device, strings.Join(r.cfg.Backend, ",")))
		}
	}
	if r.rank == 0 {
		if err := writeConfigFile(r.cfg); err != nil {
			return err
		}
	}
	if len(r.ops) > 1 || r.comm != nil {
		return r.newGroup()
	}
	return nil
}

// load restores parameters, layer state and Adam state into every replica
// and the position from rs.
func (r *run) load(rs *resumed) error {
	for _, op := range r.ops {
		p := op.Plan
		if err := loadModelTensors(p, rs.params); err != nil {
			return fmt.Errorf("train: resume %s: %w", rs.path, err)
		}
		adam := graph.AdamState{Step: int(rs.state.Step), M: fromCkpt(rs.state.M), V: fromCkpt(rs.state.V)}
		if err := p.LoadAdam(adam); err != nil {
			return fmt.Errorf("train: resume %s: %w", rs.path, err)
		}
	}
	if err := r.restore(rs); err != nil {
		return err
	}
	if err := trimJSONL(r.mw.files.JSONL, r.step, len(r.history)); err != nil {
		return err
	}
	if l, err := checkpoint.Latest(r.cfg.CheckpointDir); err == nil && l != rs.path {
		r.log.Warn("resuming from a checkpoint that is not the newest of the run folder; newer ones belong to the abandoned continuation", "resumed", rs.path, "newest", l)
	}
	return nil
}

func (r *run) result() *Result {
	return &Result{Device: r.device, Rank: r.rank, Epochs: append([]EpochMetrics(nil), r.history...), Step: r.step,
		TrainSeconds: r.totalSeconds, Images: r.totalImages, Checkpoint: r.lastCkpt, Dir: r.cfg.CheckpointDir, Config: r.cfg}
}

// printf writes a line to Out, clearing the progress bar first.
func (r *run) printf(format string, a ...any) {
	if r.opts.Progress != nil {
		r.opts.Progress.Clear()
	}
	fmt.Fprintf(r.out, format+"\n", a...)
}

func (r *run) loop(ctx context.Context) error {
	if !r.cfg.Quiet {
		r.printf("training on %s%s", r.device, r.rankSuffix())
	}
	for r.epoch < r.cfg.Epochs {
		if err := r.trainEpoch(ctx); err != nil {
			return err
		}
		if err := r.endEpoch(ctx); err != nil {
			return err
		}
	}
	r.printf("total training time %.2f, %.1f images/sec on %s", r.totalSeconds, r.result().ImagesPerSec(), r.device)
	return nil
}

// interrupted saves a checkpoint and returns the InterruptedError.
func (r *run) interrupted(cause error) error {
	if r.opts.Progress != nil {
		r.opts.Progress.EndEpoch()
	}
	err := r.save("interrupted")
	ie := &InterruptedError{Step: r.step, Epoch: r.epoch + 1, Batch: r.batch, Checkpoint: r.lastCkpt, Dir: r.cfg.CheckpointDir, Cause: cause}
	if err != nil {
		return fmt.Errorf("interrupted after step %d but the checkpoint could not be saved: %w", r.step, err)
	}
	return ie
}

// trainEpoch runs the remaining training steps of the epoch in progress.
func (r *run) trainEpoch(ctx context.Context) error {
	nb := r.trainB.NumBatches()
	prog := r.opts.Progress
	if prog != nil && !r.cfg.Quiet {
		r.startEpoch(prog, nb)
		defer prog.EndEpoch()
	} else {
		prog = nil
	}
	it, err := r.trainB.Iter(r.epoch, r.batch)
	if err != nil {
		return err
	}
	defer it.Close()
	p := r.op.Plan
	r.phase = "training"
	for r.batch < nb {
		if err := r.beforeStep(ctx); err != nil {
			return err
		}
		bt, ok := it.Next()
		if !ok {
			return fmt.Errorf("train: epoch %d ended after %d of %d batches", r.epoch+1, r.batch, nb)
		}
		step := r.step + 1
		if r.opts.BeforeStep != nil {
			if err := r.opts.BeforeStep(step, p); err != nil {
				return err
			}
		}
		t0 := time.Now()
		st, err := r.trainStep(step, bt)
		dt := time.Since(t0).Seconds()
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		if !finite(float64(st.Loss)) {
			e := &NonFiniteError{Step: step, Epoch: r.epoch + 1, Batch: bt.Index, Loss: st.Loss}
			e.Stats, e.StatsErr = r.op.layerStats(r.replica0Images(bt.N))
			return e
		}
		r.mark.set(step, r.lastCkpt)
		r.step, r.batch = step, r.batch+1
		r.ep.lossSum += float64(st.Loss) * float64(bt.N)
		r.ep.correct += int64(st.Correct)
		r.ep.images += int64(bt.N)
		r.ep.seconds += dt
		r.totalSeconds += dt
		r.totalImages += int64(bt.N)
		if len(r.timed) < 64 {
			r.timed = append(r.timed, dt)
		}
		if err := r.mw.step(StepRecord{Step: step, Epoch: r.epoch + 1, Batch: bt.Index, Images: bt.N,
			Loss: float64(st.Loss), Correct: st.Correct, Seconds: dt}); err != nil {
			r.metricsFailed(err)
		}
		if prog != nil {
			prog.Step(r.batch, r.ep.lossSum/float64(r.ep.images))
		}
		r.estimate()
		if err := r.afterStep(st.Loss); err != nil {
			return err
		}
		if err := r.cadence(); err != nil {
			return err
		}
	}
	return nil
}

// cadence saves a checkpoint every checkpoint_every_steps steps and after
// checkpoint_every_minutes since the last save (in a distributed run the
// ranks agree on the latter before the next step: beforeStep).
func (r *run) cadence() error {
	if n := r.cfg.CheckpointEverySteps; n > 0 && r.step%n == 0 {
		return r.save(fmt.Sprintf("every %d steps", n))
	}
	if r.comm == nil && r.minutesDue() {
		return r.save(r.minutesReason())
	}
	return nil
}

// minutesDue reports whether checkpoint_every_minutes have passed since the
// last save.
func (r *run) minutesDue() bool {
	m := r.cfg.CheckpointEveryMinutes
	return m > 0 && time.Since(r.savedAt) >= time.Duration(m*float64(time.Minute))
}

func (r *run) minutesReason() string {
	return fmt.Sprintf("every %g minutes", r.cfg.CheckpointEveryMinutes)
}

// beforeStep stops the run for a cancelled ctx (a checkpoint saved, an
// *InterruptedError). In a distributed run the ranks agree first, so that
// they all stop, or save on rank 0's minute cadence, at the same step.
func (r *run) beforeStep(ctx context.Context) error {
	if r.comm == nil {
		if err := ctx.Err(); err != nil {
			return r.interrupted(err)
		}
		return nil
	}
	cause, save, err := r.agreeStep(ctx.Err())
	switch {
	case err != nil:
		return err
	case cause != nil:
		return r.interrupted(cause)
	case save:
		return r.save(r.minutesReason())
	}
	return nil
}

// endEpoch evaluates on the test set, prints and records the epoch, saves
// the epoch's checkpoint and then writes the epoch's metrics.
func (r *run) endEpoch(ctx context.Context) error {
	r.phase = "evaluation"
	ev, err := r.evaluate(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return r.interrupted(ctx.Err())
		}
		return err
	}
	e := EpochMetrics{Epoch: r.epoch + 1, Step: r.step, TestLoss: ev.Loss, TestAcc: ev.Accuracy(), Seconds: r.ep.seconds}
	if r.ep.images > 0 {
		e.Loss = r.ep.lossSum / float64(r.ep.images)
		e.TrainAcc = float64(r.ep.correct) / float64(r.ep.images)
	}
	if r.ep.seconds > 0 {
		e.ImagesPerSec = float64(r.ep.images) / r.ep.seconds
	}
	r.history = append(r.history, e)
	if !r.cfg.Quiet {
		r.printf("epoch %d : loss %.3f, train acc %.3f, test acc %.3f", e.Epoch, e.Loss, e.TrainAcc, e.TestAcc)
	}
	r.log.Debug("epoch done", "epoch", e.Epoch, "step", e.Step, "test_loss", ev.Loss, "eval_seconds", ev.Seconds, "images_per_sec", e.ImagesPerSec)
	r.epoch, r.batch, r.ep = r.epoch+1, 0, accum{}
	// The checkpoint before the metrics: a metrics failure never costs it.
	if err := r.save("end of epoch"); err != nil {
		return err
	}
	if err := r.mw.epoch(e, r.history); err != nil {
		r.metricsFailed(err)
	}
	return nil
}

// toCkpt converts plan tensors to checkpoint tensors (same fields, shared data).
func toCkpt(ts []graph.HostTensor) []checkpoint.Tensor {
	out := make([]checkpoint.Tensor, len(ts))
	for i, t := range ts {
		out[i] = checkpoint.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data}
	}
	return out
}

// fromCkpt converts checkpoint tensors to plan tensors (same fields, shared data).
func fromCkpt(ts []checkpoint.Tensor) []graph.HostTensor {
	out := make([]graph.HostTensor, len(ts))
	for i, t := range ts {
		out[i] = graph.HostTensor{Name: t.Name, Shape: t.Shape, Data: t.Data}
	}
	return out
}
