using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Npgsql;

namespace Reimage.Dashboard.Infrastructure;

/// <summary>
/// Bad input is the caller's mistake, never a 500: a NUL anywhere in a request (PostgreSQL cannot store one), a
/// body that is not the JSON or form it claims to be, a multipart body without a boundary, a value the database
/// refuses. Every such request answers 400 (or the status the framework chose: 413, 415) with a problem naming what
/// was wrong, and nothing is written (the failed statement's transaction rolls back).
/// </summary>
public static class BadInput
{
    /// <summary>PostgreSQL's "data exception" codes a caller's value can cause: bad characters, too long, not a number/date.</summary>
    private static readonly HashSet<string> CallerDataErrors =
        [PostgresErrorCodes.CharacterNotInRepertoire, PostgresErrorCodes.UntranslatableCharacter, PostgresErrorCodes.StringDataRightTruncation,
         PostgresErrorCodes.InvalidTextRepresentation, PostgresErrorCodes.NumericValueOutOfRange, PostgresErrorCodes.InvalidDatetimeFormat,
         PostgresErrorCodes.DatetimeFieldOverflow, PostgresErrorCodes.ProgramLimitExceeded];

    public static WebApplicationBuilder AddBadInputGuards(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new NoNulStrings()));
        // Binding failures throw, so that the guard below answers them with a problem naming the parameter.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return builder;
    }

    /// <summary>First in the pipeline: turns the caller's bad input into 4xx answers.</summary>
    public static WebApplication UseBadInputGuards(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (HoldsNul(request.Path.Value) || HoldsNul(request.QueryString.Value))
            {
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "The URL holds a NUL character.");
                return;
            }

            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && Describe(e) is { } problem)
            {
                await ProblemAsync(context, problem.Status, problem.Detail);
            }
        });
        return app;
    }

    private static (int Status, string Detail)? Describe(Exception e) => e switch
    {
        BadHttpRequestException bad => (bad.StatusCode, bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message),
        JsonException json => (StatusCodes.Status400BadRequest, $"The body is not valid JSON: {json.Message}"),
        InvalidDataException data => (StatusCodes.Status400BadRequest, $"The body cannot be read: {data.Message}"),
        PostgresException pg when CallerDataErrors.Contains(pg.SqlState) =>
            (StatusCodes.Status400BadRequest, $"A value in the request cannot be stored: {pg.MessageText}."),
        _ when e.InnerException is { } inner => Describe(inner),
        _ => null,
    };

    private static bool HoldsNul(string? text) =>
        text is not null && (text.Contains('\0') || text.Contains("%00", StringComparison.Ordinal));

    private static Task ProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { status, title = "Bad request", detail }, (JsonSerializerOptions?)null, "application/problem+json");
    }

    /// <summary>Every JSON string the API reads: a NUL is refused where it enters, naming the field (STJ adds the path).</summary>
    private sealed class NoNulStrings : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = reader.GetString();
            return value is not null && value.Contains('\0') ? throw new JsonException("A text value holds a NUL character.") : value;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
