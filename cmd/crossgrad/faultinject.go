package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crossgrad/crossgrad/graph"
)

// Fault injection for the subprocess tests (CROSSGRAD_TEST_* variables,
// which configuration loading ignores): failStepEnv=N makes training step N
// fail before it runs, on the MPI rank failRankEnv names when it is set
// (the rank as the launcher's OMPI_COMM_WORLD_RANK or PMIX_RANK says).
const (
	failStepEnv = "CROSSGRAD_TEST_FAIL_STEP"
	failRankEnv = "CROSSGRAD_TEST_FAIL_RANK"
)

// injectedFault returns the train.Options.BeforeStep hook that env asks
// for, or nil.
func injectedFault(env []string) (func(int, *graph.Plan) error, error) {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	s, ok := vars[failStepEnv]
	if !ok {
		return nil, nil
	}
	step, err := strconv.Atoi(s)
	if err != nil || step < 1 {
		return nil, fmt.Errorf("%s = %q: want a step number from 1; unset it", failStepEnv, s)
	}
	if want, ok := vars[failRankEnv]; ok {
		rank, found := vars["OMPI_COMM_WORLD_RANK"]
		if !found {
			rank = vars["PMIX_RANK"]
		}
		if rank != want {
			return nil, nil
		}
	}
	return func(n int, _ *graph.Plan) error {
		if n == step {
			return fmt.Errorf("injected fault at step %d (%s)", n, failStepEnv)
		}
		return nil
	}, nil
}
