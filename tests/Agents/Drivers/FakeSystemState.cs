using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Reimage.Agents.Tests.Drivers;

/// <summary>The mutable state of one fake ComputerSystem: power, boot override, ETag, and the resets it received.</summary>
internal sealed class SystemState(FakeSystem definition)
{
    private int _generation = 1;
    private int _getsUntilOff;
    private int _getsUntilOn;

    public FakeSystem Definition { get; } = definition;
    public string Power { get; private set; } = definition.PowerState;
    public string? BootEnabled { get; private set; } = "Disabled";
    public string? BootTarget { get; private set; } = "None";
    public List<string> Resets { get; } = [];

    private string ETag => $"W/\"{Definition.Id}-{_generation}\"";

    public JsonObject Read(BmcFlavour flavour)
    {
        if (Power == "PoweringOff" && _getsUntilOff-- <= 0)
        {
            Power = "Off";
        }

        if (Power == "PoweringOn" && !flavour.NeverPowersOn && _getsUntilOn-- <= 0)
        {
            Power = "On";
        }

        var reset = new JsonObject { ["target"] = Definition.Path.TrimEnd('/') + "/Actions/ComputerSystem.Reset" + (Definition.Path.EndsWith('/') ? "/" : "") };
        if (flavour.ResetTypesInActionInfo)
        {
            reset["@Redfish.ActionInfo"] = Definition.Path.TrimEnd('/') + "/ResetActionInfo";
        }
        else if (flavour.ResetTypes is not null)
        {
            reset["ResetType@Redfish.AllowableValues"] = new JsonArray([.. flavour.ResetTypes.Select(v => (JsonNode)JsonValue.Create(v))]);
        }

        var system = new JsonObject
        {
            ["@odata.id"] = Definition.Path,
            ["@odata.type"] = "#ComputerSystem.v1_13_0.ComputerSystem",
            ["Id"] = Definition.Id,
            ["Name"] = "System",
            ["HostName"] = Definition.HostName,
            // A slow shutdown still reads "On" (DSP0268 has no PoweringOff for a forced off); only the fake knows better.
            ["PowerState"] = Power switch { "PoweringOff" => "On", "PoweringOn" => "Off", _ => Power },
            ["Boot"] = new JsonObject
            {
                ["BootSourceOverrideEnabled"] = BootEnabled,
                ["BootSourceOverrideTarget"] = BootTarget,
                ["BootSourceOverrideTarget@Redfish.AllowableValues"] = new JsonArray([.. flavour.BootTargets.Select(v => (JsonNode)JsonValue.Create(v))]),
            },
            ["Actions"] = new JsonObject { ["#ComputerSystem.Reset"] = reset },
        };
        if (Definition.SerialNumber is not null)
        {
            system["SerialNumber"] = Definition.SerialNumber;
        }

        if (Definition.Macs is not null)
        {
            system["EthernetInterfaces"] = new JsonObject { ["@odata.id"] = Definition.Path.TrimEnd('/') + "/EthernetInterfaces" };
        }
        if (flavour.UsesETags)
        {
            system["@odata.etag"] = ETag;
        }

        return system;
    }

    public (int, JsonObject?, Action<HttpResponse>?) Patch(BmcFlavour flavour, string? ifMatch, string body)
    {
        if (flavour.UsesETags && ifMatch is null)
        {
            return (428, Problem("Base.1.8.PreconditionRequired", "If-Match is required."), null);
        }

        if (flavour.UsesETags && ifMatch != ETag)
        {
            return (412, Problem("Base.1.8.PreconditionFailed", "The ETag does not match."), null);
        }

        var boot = JsonNode.Parse(body)?["Boot"];
        var enabled = (string?)boot?["BootSourceOverrideEnabled"];
        var target = (string?)boot?["BootSourceOverrideTarget"];
        if (enabled is not ("Once" or "Continuous" or "Disabled") || target is null || !flavour.BootTargets.Contains(target))
        {
            return (400, Problem("Base.1.8.PropertyValueNotInList", $"The value {target} for BootSourceOverrideTarget is not in the list of acceptable values."), null);
        }

        (BootEnabled, BootTarget) = (flavour.IgnoresOnce && enabled == "Once" ? "Continuous" : enabled, target);
        _generation++;
        return (204, null, null);
    }

    public (int, JsonObject?, Action<HttpResponse>?) Reset(BmcFlavour flavour, string body)
    {
        var type = (string?)JsonNode.Parse(body)?["ResetType"];
        var allowed = flavour.ResetTypes ?? ["On", "ForceOff", "ForceRestart", "GracefulRestart"];
        if (type is null || !allowed.Contains(type))
        {
            return (400, Problem("Base.1.8.ActionParameterValueNotInList", $"The value {type} for ResetType is not allowed."), null);
        }

        if (flavour.FailResetsWith is { } status)
        {
            return ((int)status, Problem("Base.1.8.InternalError", "The BMC is busy."), null);
        }

        Resets.Add(type);
        (Power, _getsUntilOff, _getsUntilOn) = type switch
        {
            "ForceOff" => ("PoweringOff", flavour.GetsUntilOff, 0),
            _ when flavour.GetsUntilOn > 0 || flavour.NeverPowersOn => ("PoweringOn", 0, flavour.GetsUntilOn),
            _ => ("On", 0, 0),
        };
        _generation++;
        return (204, null, null);
    }

    private static JsonObject Problem(string code, string message) => new()
    {
        ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["@Message.ExtendedInfo"] = new JsonArray(new JsonObject { ["MessageId"] = code, ["Message"] = message }) },
    };
}
