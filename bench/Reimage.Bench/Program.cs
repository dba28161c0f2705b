using Reimage.Bench;

return await CommandLine.RunAsync(args);
