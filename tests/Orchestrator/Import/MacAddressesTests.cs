using Reimage.Orchestrator.Import;

namespace Reimage.Orchestrator.Tests.Import;

public sealed class MacAddressesTests
{
    [Theory]
    [InlineData("AA:BB:CC:DD:EE:FF")]
    [InlineData("aa:bb:cc:dd:ee:ff")]
    [InlineData("aa-bb-cc-dd-ee-ff")]
    [InlineData("AA-BB-CC-DD-EE-FF")]
    [InlineData("aabb.ccdd.eeff")]
    [InlineData("AABB.CCDD.EEFF")]
    [InlineData("aabbccddeeff")]
    [InlineData("AaBbCcDdEeFf")]
    public void Normalise_AnyNotation_GivesUpperCaseColonForm(string value)
    {
        Assert.True(MacAddresses.TryNormalise(value, out var mac));
        Assert.Equal("AA:BB:CC:DD:EE:FF", mac);
    }

    [Theory]
    [InlineData("")]
    [InlineData("AA:BB:CC:DD:EE")]
    [InlineData("AA:BB:CC:DD:EE:FF:00")]
    [InlineData("AA:BB:CC:DD:EE:GG")]
    [InlineData("AA:BB-CC:DD:EE:FF")]
    [InlineData("AAB:BCC:DDE:EFF")]
    [InlineData("aabbccddeef")]
    [InlineData("aabb.ccdd.eef")]
    [InlineData(":AA:BB:CC:DD:EE:FF")]
    [InlineData("AA::BB:CC:DD:EE:FF")]
    public void Normalise_InvalidValue_IsRejected(string value) => Assert.False(MacAddresses.TryNormalise(value, out _));

    [Theory]
    [InlineData("aa:bb:cc:dd:ee:01;aa-bb-cc-dd-ee-02")]
    [InlineData("aa:bb:cc:dd:ee:01, aabb.ccdd.ee02")]
    [InlineData("aabbccddee01|AA:BB:CC:DD:EE:02")]
    [InlineData("aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02")]
    [InlineData("aa:bb:cc:dd:ee:01\taa:bb:cc:dd:ee:02")]
    public void ParseList_SeveralInOneField_ReturnsEachNormalised(string field)
    {
        Assert.True(MacAddresses.TryParseList(field, out var macs, out _));
        Assert.Equal(["AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"], macs);
    }

    [Fact]
    public void ParseList_SameMacInTwoNotations_CollapsesToOne()
    {
        Assert.True(MacAddresses.TryParseList("aa:bb:cc:dd:ee:01; AABB.CCDD.EE01; aabbccddee01", out var macs, out _));
        Assert.Equal(["AA:BB:CC:DD:EE:01"], macs);
    }

    [Fact]
    public void ParseList_OneInvalidEntry_NamesIt()
    {
        Assert.False(MacAddresses.TryParseList("aa:bb:cc:dd:ee:01; not-a-mac", out _, out var invalid));
        Assert.Equal("not-a-mac", invalid);
    }

    [Fact]
    public void ParseList_Empty_IsNoMacs()
    {
        Assert.True(MacAddresses.TryParseList("  ", out var macs, out _));
        Assert.Empty(macs);
    }
}
