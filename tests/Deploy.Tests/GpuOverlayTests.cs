using Orchestrator.Contracts.Hosting;

namespace Orchestrator.Deploy.Tests;

public sealed class GpuOverlayTests
{
    private const string Gpu = "nvidia.com/gpu";

    [KubectlFact]
    public void Each_silo_requests_and_is_limited_to_one_gpu()
    {
        var resources = Kustomize.Render(Overlays.Gpu).SiloContainer["resources"]!;
        Assert.Equal("1", (string?)resources["requests"]![Gpu]);
        Assert.Equal("1", (string?)resources["limits"]![Gpu]);
    }

    [KubectlFact]
    public void Silos_are_scheduled_on_gpu_nodes_and_tolerate_their_taint()
    {
        var pod = Kustomize.Render(Overlays.Gpu).SiloPodSpec;
        Assert.Equal("true", (string?)pod["nodeSelector"]?["nvidia.com/gpu.present"]);
        Assert.Contains(pod["tolerations"]!.AsArray(), t => (string?)t!["key"] == Gpu && (string?)t["effect"] == "NoSchedule");
    }

    [KubectlFact]
    public void Silos_train_on_cuda_and_advertise_a_gpu_accelerator()
    {
        var config = Kustomize.Render(Overlays.Gpu).Generated("ConfigMap", "orchestrator-config")["data"]!;
        Assert.Equal("cuda:0", (string?)config[EnvironmentVariables.Device]);
        Assert.Equal("gpu", (string?)config[EnvironmentVariables.Accelerator]);
    }

    [KubectlFact]
    public void Silos_run_the_cuda_image_and_the_submit_job_the_cpu_image()
    {
        var rendered = Kustomize.Render(Overlays.Gpu);
        Assert.EndsWith(":cuda", (string?)rendered.SiloContainer["image"]);
        Assert.EndsWith(":cpu", (string?)Rendered.Containers(Rendered.PodSpec(rendered.Single("Job", "submit-sweep"))).Single()["image"]);
    }

    [KubectlTheory]
    [InlineData(Overlays.Dev)]
    [InlineData(Overlays.Production)]
    public void Cpu_overlays_request_no_gpu_and_say_so(string overlay)
    {
        var rendered = Kustomize.Render(overlay);
        Assert.All(rendered.AllContainers, c => Assert.Null(c.Container["resources"]?["limits"]?[Gpu]));
        Assert.Equal("cpu", (string?)rendered.Generated("ConfigMap", "orchestrator-config")["data"]![EnvironmentVariables.Accelerator]);
        Assert.EndsWith(":cpu", (string?)rendered.SiloContainer["image"]);
    }
}
