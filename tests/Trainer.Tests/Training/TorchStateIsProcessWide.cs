// Torch's intra-op thread count belongs to the process (dropout no longer does: each run has its own generator), and a
// benchmark test changes it, so tests that train run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
