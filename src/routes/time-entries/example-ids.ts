/** The ids the examples of the time entry schemas use, so that an entry and its project name each other. */
export const exampleIds = {
  entry: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42",
  organization: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01",
  user: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
  project: "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
  customer: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
  invoice: "7b6a5948-3726-4150-8f9e-0d1c2b3a4958",
};
