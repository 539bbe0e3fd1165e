// The print button of the overdue notices.
document.getElementById("print").addEventListener("click", () => window.print());
