import { logContract } from "../contract.ts";
import { createMemoryLog } from "./memory.ts";

logContract("memory", async () => ({
  durable: false,
  open: async () => createMemoryLog(),
  close: async () => {},
}));
