using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Dashboard.Api;

/// <summary>
/// The API's JSON: camelCase, enums as camelCase strings, NaN allowed. The default encoder writes `&lt;`, `&gt;` and `&amp;`
/// as \u escapes, so no answer can be read as markup; the page still writes every value as text.
/// </summary>
public static class DashboardJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
