using Reimage.Orchestrator.Workflow;

namespace Reimage.Orchestrator.Forecast;

/// <summary>
/// Each site's capacity as the live <see cref="Scheduling.CapacitySnapshot"/> reads it: imaging slots (bounded by the
/// USB media at hand at a USB site) and hands-on places of the technicians on shift, less what machines hold; spares on
/// hand, less those reserved; and the image server link machines share while imaging. A slot, place or spare freed and
/// a delivery received tell the dispatcher (<see cref="SiteChanges"/>); taking capacity does not, as it lets nobody in.
/// Shift changes are told by <see cref="Technicians"/>, which hands over the work with them.
/// </summary>
internal sealed class SiteResources
{
    private static readonly Dictionary<string, int> NoParts = [];

    private readonly CompiledPlan _plan;
    private readonly SiteChanges _changes;
    private readonly int[] _inSlots;
    private readonly int[] _handsOn;
    private readonly int[] _onShift;
    private readonly int[] _usb;

    /// <summary>By site × <see cref="CompiledPlan.Items"/>.</summary>
    private readonly int[] _onHand;

    /// <summary>Reserved at admission for a machine whose drive is replaced, until InstallDrive consumes it or the machine fails.</summary>
    private readonly int[] _promised;

    private readonly ImagingLink?[] _links;

    public SiteResources(CompiledPlan plan, SiteChanges changes)
    {
        (_plan, _changes) = (plan, changes);
        var sites = plan.SiteCount;
        (_inSlots, _handsOn, _onShift) = (new int[sites], new int[sites], new int[sites]);
        _usb = [.. plan.Plan.Sites.Select(s => s.UsbMedia)];
        _onHand = [.. plan.Stock];
        _promised = new int[sites * plan.Items.Length];
        _links = [.. plan.Plan.Sites.Select(s => !s.ImagesFromUsb && s.ImagingBytesPerSecond > 0 ? new ImagingLink(s.ImagingBytesPerSecond.Value) : null)];
    }

    /// <summary>The site's image server link, when machines share one (null: imaging takes the step's own time).</summary>
    public ImagingLink? Link(int site) => _links[site];

    /// <summary>Slots (bounded by USB media at a USB site) less machines in slot steps.</summary>
    public int FreeSlots(int s) => Math.Max(0, (_plan.Usb[s] ? Math.Min(_plan.Slots[s], _usb[s]) : _plan.Slots[s]) - _inSlots[s]);

    /// <summary>Technicians on shift × hands-on per technician less machines at hands-on steps.</summary>
    public int FreeHandsOn(int s) => Math.Max(0, (_onShift[s] * _plan.HandsOnPerTechnician[s]) - _handsOn[s]);

    /// <summary>On hand less reserved.</summary>
    public int Available(int s, int item) => Math.Max(0, _onHand[Stock(s, item)] - _promised[Stock(s, item)]);

    /// <summary>The spares the site's waiting machines need, as the snapshot gives them to the policy.</summary>
    public Dictionary<string, int> Parts(int s)
    {
        if (!_plan.NeedsParts[s])
        {
            return NoParts;
        }

        var parts = new Dictionary<string, int>();
        foreach (var group in _plan.Groups[s])
        {
            if (group.Part >= 0)
            {
                parts[_plan.Items[group.Part]] = Available(s, group.Part);
            }
        }

        return parts;
    }

    /// <summary>A machine enters <paramref name="step"/>: it takes a slot or a hands-on place if the step needs one.</summary>
    public void Enter(int site, StepDefinition step)
    {
        _inSlots[site] += step.UsesImagingSlot ? 1 : 0;
        _handsOn[site] += step.Kind == StepKind.HandsOn ? 1 : 0;
    }

    public void ReleaseSlot(int site)
    {
        _inSlots[site]--;
        _changes.MarkForAdmission(site);
    }

    public void ReleaseHandsOn(int site)
    {
        _handsOn[site]--;
        _changes.MarkForAdmission(site);
    }

    public void Reserve(int site, int item) => _promised[Stock(site, item)]++;

    /// <summary>InstallDrive takes the reserved spare off the shelf.</summary>
    public void Consume(int site, int item)
    {
        _onHand[Stock(site, item)]--;
        _promised[Stock(site, item)]--;
    }

    /// <summary>A reserved spare goes back to the shelf unused.</summary>
    public void Release(int site, int item)
    {
        _promised[Stock(site, item)]--;
        _changes.MarkForAdmission(site);
    }

    public void ShiftChanged(int site, bool on) => _onShift[site] += on ? 1 : -1;

    public void Receive(CompiledDelivery delivery)
    {
        if (delivery.Item < 0)
        {
            _usb[delivery.Site] += delivery.Quantity;
        }
        else
        {
            _onHand[Stock(delivery.Site, delivery.Item)] += delivery.Quantity;
        }

        _changes.MarkForAdmission(delivery.Site);
    }

    private int Stock(int site, int item) => (site * _plan.Items.Length) + item;
}
