namespace Orchestrator.Contracts.Hosting;

/// <summary>Every silo and client option can come from these environment variables (the container sets them).</summary>
public static class EnvironmentVariables
{
    /// <summary>`localhost` (embedded) or `redis://HOST:PORT`.</summary>
    public const string Cluster = "ORCHESTRATOR_CLUSTER";
    /// <summary>A local directory, or an Azure Storage connection string.</summary>
    public const string Storage = "ORCHESTRATOR_STORAGE";
    /// <summary>Blob container name when storage is Azure Blob.</summary>
    public const string StorageContainer = "ORCHESTRATOR_STORAGE_CONTAINER";
    public const string DataDir = "ORCHESTRATOR_DATA_DIR";
    public const string Slots = "ORCHESTRATOR_SLOTS";
    public const string Device = "ORCHESTRATOR_DEVICE";
    /// <summary>`cpu` or `gpu`: the silo metadata `hardware.accelerator`, for operators (`workers`, the Orleans dashboard). No placement reads it: slots pull trials and each trains on the device its silo has.</summary>
    public const string Accelerator = "ORCHESTRATOR_ACCELERATOR";
    public const string Dashboard = "ORCHESTRATOR_DASHBOARD";
    /// <summary>Bearer token every call of the web dashboard's API requires (reads included); unset: open reads, no pause/resume/cancel.</summary>
    public const string DashboardToken = "ORCHESTRATOR_DASHBOARD_TOKEN";
    public const string SiloPort = "ORCHESTRATOR_SILO_PORT";
    public const string GatewayPort = "ORCHESTRATOR_GATEWAY_PORT";
    public const string HttpPort = "ORCHESTRATOR_HTTP_PORT";
    /// <summary>The silo's or client's certificate (PEM, or PKCS#12 .pfx/.p12): turns on mutual TLS.</summary>
    public const string TlsCertificate = "ORCHESTRATOR_TLS_CERT";
    /// <summary>The certificate's private key (PEM).</summary>
    public const string TlsKey = "ORCHESTRATOR_TLS_KEY";
    /// <summary>The cluster's CA certificate(s) (PEM): peers are admitted only when their chain ends at one of them.</summary>
    public const string TlsAuthority = "ORCHESTRATOR_TLS_CA";
    /// <summary>The password of a PKCS#12 certificate file, if it has one.</summary>
    public const string TlsPkcs12Password = "ORCHESTRATOR_TLS_PASSWORD";
    /// <summary>A file of revoked certificate serial numbers (hex, one a line): peers presenting one are refused in the TLS handshake.</summary>
    public const string RevokedSerials = "ORCHESTRATOR_REVOKED_SERIALS";
    /// <summary>`true` lets a silo listen on a non-loopback address without TLS.</summary>
    public const string Insecure = "ORCHESTRATOR_INSECURE";
    /// <summary>Redis' password (`requirepass`/ACL), added to the `--cluster` connection (Kubernetes: from a Secret).</summary>
    public const string RedisPassword = "ORCHESTRATOR_REDIS_PASSWORD";
    /// <summary>Seconds without a progress report before a running trial's worker counts as lost (default 30); fault tests shorten it.</summary>
    public const string HeartbeatTimeoutSeconds = "ORCHESTRATOR_HEARTBEAT_TIMEOUT_SECONDS";
    /// <summary>Seconds between a running trial's step reports to its sweep, and between the dashboard's reads of a sweep (default 1): how fresh `trials` and the page are, against one grain call per interval per trial. Fault tests shorten it.</summary>
    public const string ProgressIntervalSeconds = "ORCHESTRATOR_PROGRESS_INTERVAL_SECONDS";
    /// <summary>`LOW-HIGH`: the ports an embedded silo (and the tests' servers) draw from, high exclusive; default the 12,000 below the ephemeral range. Processes started side by side get disjoint ranges.</summary>
    public const string FreePortRange = "ORCHESTRATOR_PORT_RANGE";

    // Orleans-on-Kubernetes conventions: filled from the downward API.
    public const string ServiceId = "ORLEANS_SERVICE_ID";
    public const string ClusterId = "ORLEANS_CLUSTER_ID";
    public const string PodName = "POD_NAME";
    public const string PodIp = "POD_IP";
    public const string PodNamespace = "POD_NAMESPACE";
}
