using Microsoft.ML.Trainers.FastTree;

namespace Orchestrator.Dashboard.Importance;

/// <summary>
/// One regression tree as the boxes its leaves cover in the parameters' domain, each with its leaf's value. A box is
/// [Low, High] per column; a split "x ≤ t goes left" cuts the domain at t. Leaves the domain cannot reach are left out.
/// </summary>
public sealed record TreeBoxes(IReadOnlyList<TreeBoxes.Box> Leaves, IReadOnlyList<double>[] Cuts)
{
    public sealed record Box(double[] Low, double[] High, double Value);

    public static TreeBoxes Of(RegressionTreeBase tree, (double Low, double High)[] domain)
    {
        var leaves = new List<Box>();
        var cuts = domain.Select(_ => new SortedSet<double>()).ToArray();
        var low = domain.Select(d => d.Low).ToArray();
        var high = domain.Select(d => d.High).ToArray();
        if (tree.NumberOfNodes == 0) leaves.Add(new Box(low, high, tree.LeafValues[0]));
        else Walk(0, low, high);
        return new TreeBoxes(leaves, cuts.Select(c => (IReadOnlyList<double>)[.. c]).ToArray());

        void Walk(int node, double[] lo, double[] hi)
        {
            if (node < 0)
            {
                leaves.Add(new Box(lo, hi, tree.LeafValues[~node]));
                return;
            }
            if (tree.CategoricalSplitFlags[node])
                throw new NotSupportedException("categorical splits are not used: categories are one-hot columns");
            var f = tree.NumericalSplitFeatureIndexes[node];
            var t = (double)tree.NumericalSplitThresholds[node];
            if (t > lo[f] && t < hi[f]) cuts[f].Add(t);
            if (t >= lo[f]) // some of the box goes left
            {
                var leftHigh = (double[])hi.Clone();
                leftHigh[f] = Math.Min(hi[f], t);
                Walk(tree.LeftChild[node], lo, leftHigh);
            }
            if (t < hi[f]) // some goes right
            {
                var rightLow = (double[])lo.Clone();
                rightLow[f] = Math.Max(lo[f], t);
                Walk(tree.RightChild[node], rightLow, hi);
            }
        }
    }
}
